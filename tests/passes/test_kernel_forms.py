"""passes/kernel_forms.py's matmul, split and broadcast rewrites, on hand-built graphs, against
the interpreter running the graph as traced (float64: the rewrites may round differently, so
values are compared within 1e-12, not bit for bit).

- lower_flat_matmuls: (..., m, k) @ (k, n) is one 2-D product over reshapes; a batched
  `x.T @ g` summed over its batch (a Linear weight's gradient) is one 2-D product too.
- lower_scatter_sums: adds of slice_scatters into zeros at disjoint slices (split's
  backward) are one concat, a zero piece filling each gap.
- lower_broadcast_reads: an expand read only by elementwise ops that broadcast its input to
  the same result is dropped.
"""
import numpy as np

from stepjit.ir.interpreter import interpret
from stepjit.ir.types import float64
from stepjit.ir.verifier import verify
from stepjit.passes.kernel_forms import (lower_broadcast_reads, lower_flat_matmuls,
                                         lower_scatter_sums)

from .helpers import Builder, prims, snapshot


def _same_values(pass_fn, graph, seed=0):
    """pass_fn(graph), checked: verified, graph untouched, the same outputs within 1e-12."""
    before = snapshot(graph)
    out = pass_fn(graph)
    assert snapshot(graph) == before, "the pass changed its input graph"
    verify(out)
    rng = np.random.default_rng(seed)
    ins = [rng.standard_normal(v.shape) for v in graph.inputs]
    want, _ = interpret(graph, ins, [])
    got, _ = interpret(out, ins, [])
    for k, (a, b) in enumerate(zip(want, got)):
        assert a.shape == b.shape, k
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=f"output {k}")
    return out


def _matmul_shapes(graph):
    return [tuple(v.shape for v in n.inputs) for n in graph.nodes if n.prim.name == "matmul"]


def test_leading_dimensions_by_a_matrix_are_one_2d_product():
    b = Builder()
    x = b.input("x", (3, 4, 5), float64)
    w = b.input("w", (6, 5), float64)
    y = b("matmul", x, b("transpose", w, perm=(1, 0)))     # a Linear layer on (B, T, C)
    out = _same_values(lower_flat_matmuls, b.done(y))
    assert _matmul_shapes(out) == [((12, 5), (5, 6))]
    assert out.outputs[0] is y and prims(out)[-1] == "reshape"


def test_a_weight_gradient_summed_over_the_batch_is_one_2d_product():
    b = Builder()
    x = b.input("x", (2, 3, 4, 5), float64)                # two batch dimensions
    g = b.input("g", (2, 3, 4, 6), float64)
    prod = b("matmul", b("transpose", x, perm=(0, 1, 3, 2)), g)
    dw = b("sum", prod, axis=(0, 1), keepdims=False)
    out = _same_values(lower_flat_matmuls, b.done(dw))
    assert _matmul_shapes(out) == [((5, 24), (24, 6))]
    assert "sum" not in prims(out)


def test_batched_products_that_are_not_one_matrix_product_stay():
    b = Builder()
    x = b.input("x", (2, 4, 5), float64)
    g = b.input("g", (2, 4, 6), float64)
    xt = b("transpose", x, perm=(0, 2, 1))
    partial = b("sum", b("matmul", xt, g), axis=(0,), keepdims=True)     # keeps the axis
    q = b.input("q", (2, 3, 4, 4), float64)
    k = b.input("k", (2, 3, 4, 4), float64)
    attn = b("matmul", q, k)                                            # both batched
    rows = b("sum", b("matmul", q, k), axis=(0,), keepdims=False)        # not every batch axis
    wide = b("matmul", b.input("a", (4, 5), float64), b.input("c", (2, 5, 3), float64))
    graph = b.done(partial, attn, rows, wide)
    out = lower_flat_matmuls(graph)
    assert _matmul_shapes(out) == _matmul_shapes(graph)


def test_a_batched_product_summed_to_a_number_stays():
    """`(q @ k).sum()` (axis None) is not a weight gradient's sum over the batch: the pass left
    it, where it raised TypeError iterating the sum's axis."""
    b = Builder()
    x = b.input("x", (2, 4, 5), float64)
    g = b.input("g", (2, 4, 6), float64)
    total = b("sum", b("matmul", b("transpose", x, perm=(0, 2, 1)), g), axis=None,
              keepdims=False)
    graph = b.done(total)
    out = _same_values(lower_flat_matmuls, graph)
    assert _matmul_shapes(out) == _matmul_shapes(graph)


def _split_backward(b, pieces, width):
    """The gradient autograd builds for pieces of a split along axis 1: each piece's gradient
    scattered into zeros, the scatters added."""
    zeros = b("full", shape=(3, width), value=0.0, dtype=float64)
    total = None
    for name, (start, stop) in pieces:
        g = b.input(name, (3, stop - start), float64)
        s = b("slice_scatter", zeros, g, key=((None, None, None), (start, stop, None)))
        total = s if total is None else b("add", total, s)
    return total


def test_a_split_backward_is_one_concat():
    b = Builder()
    total = _split_backward(b, [("gv", (4, 6)), ("gq", (0, 2)), ("gk", (2, 4))], 6)
    out = _same_values(lower_scatter_sums, b.done(total))
    (cat,) = [n for n in out.nodes if n.prim.name == "concat"]
    assert [v.name for v in cat.inputs] == ["gq", "gk", "gv"] and cat.attrs["axis"] == 1
    assert "add" not in prims(out) and "slice_scatter" not in prims(out)


def test_an_unused_piece_is_a_zero_piece():
    b = Builder()
    total = _split_backward(b, [("gq", (0, 2)), ("gv", (5, 7))], 8)
    out = _same_values(lower_scatter_sums, b.done(total))
    (cat,) = [n for n in out.nodes if n.prim.name == "concat"]
    assert [v.shape for v in cat.inputs] == [(3, 2), (3, 3), (3, 2), (3, 1)]


def test_overlapping_slices_still_add():
    b = Builder()
    total = _split_backward(b, [("ga", (0, 3)), ("gb", (2, 4))], 4)
    out = _same_values(lower_scatter_sums, b.done(total))
    assert "concat" not in prims(out) and "add" in prims(out)


def test_an_expand_read_by_elementwise_ops_is_dropped():
    b = Builder()
    rows = b("sum", b.input("x", (4, 5), float64), axis=(1,), keepdims=True)     # (4, 1)
    y = b.input("y", (4, 5), float64)
    wide = b("expand", rows, shape=(4, 5))
    out = _same_values(lower_broadcast_reads, b.done(b("mul", wide, y), b("sub", y, wide)))
    assert "expand" not in prims(out)


def test_expands_that_make_the_shape_together_or_leave_stay():
    b = Builder()
    a = b("expand", b.input("a", (4, 1), float64), shape=(4, 5))
    c = b("expand", b.input("c", (4, 1), float64), shape=(4, 5))
    total = b("add", a, c)                          # without both expands: (4, 1)
    kept = b("expand", b.input("k", (5, 1), float64), shape=(5, 4))
    product = b("matmul", total, kept)             # not elementwise
    left = b("expand", b.input("l", (1, 3), float64), shape=(2, 3))
    out = _same_values(lower_broadcast_reads, b.done(product, b("neg", left), left))
    assert prims(out).count("expand") == 3          # one of a, c; kept; left leaves the graph
