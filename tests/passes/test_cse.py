"""Common-subexpression elimination: same primitive, same operands, same attrs."""
import numpy as np
import pytest

from stepjit.ir import primitives as P
from stepjit.ir.graph import Node, Value
from stepjit.ir.registry import Primitive
from stepjit.ir.types import float64, int64
from stepjit.passes.cse import cse

from .helpers import Builder, check, prims


def test_merges_identical_nodes_and_renames_uses():
    b = Builder()
    x, y = b.input("x", (4, 3)), b.input("y", (4, 3))
    a1, a2 = b("mul", x, y), b("mul", x, y)
    s = b("add", a1, a2)
    g = check(cse, b.done(s))
    assert prims(g) == ["mul", "add"]
    assert g.nodes[1].inputs == [a1, a1]


def test_chains_merge_transitively():
    b = Builder()
    x = b.input("x", (5,))
    e1, e2 = b("exp", b("neg", x)), b("exp", b("neg", x))
    g = check(cse, b.done(b("sub", e1, e2)))
    assert prims(g) == ["neg", "exp", "sub"]


@pytest.mark.parametrize("lits", [(1, 1.0), (1, True), (1.0, True), (0.0, -0.0), (0, False)])
def test_literals_of_different_type_or_sign_are_distinct(lits):
    b = Builder()
    x = b.input("x", (6,))
    outs = [b("mul", x, lit) for lit in lits]
    g = check(cse, b.done(*outs), trials=1)
    assert prims(g) == ["mul", "mul"]


def test_nan_literals_merge():
    b = Builder()
    x = b.input("x", (3,))
    g = check(cse, b.done(b("add", b("add", x, float("nan")), b("add", x, float("nan")))))
    assert prims(g) == ["add", "add"]


def test_attrs_must_match():
    b = Builder()
    x = b.input("x", (3, 4))
    s0 = b("sum", x, axis=(0,), keepdims=False)
    s1 = b("sum", x, axis=(1,), keepdims=False)
    c1 = b("cast", x, dtype=float64)
    c2 = b("cast", x, dtype=float64)
    f1 = b("full", shape=(3,), value=1, dtype=x.dtype)
    f2 = b("full", shape=(3,), value=1.0, dtype=x.dtype)   # value 1 and 1.0: not merged
    f3 = b("full", shape=(3,), value=1, dtype=x.dtype)     # merged with f1
    g = check(cse, b.done(s0, s1, b("add", c1, c2), b("add", b("add", f1, f2), f3)))
    assert prims(g).count("sum") == 2 and prims(g).count("cast") == 1
    assert prims(g).count("full") == 2


def test_creation_ops_merge():
    b = Builder()
    x = b.input("x", (4,), int64)
    a1 = b("arange", start=0, stop=4, step=1, dtype=int64)
    a2 = b("arange", start=0, stop=4, step=1, dtype=int64)
    g = check(cse, b.done(b("add", b("add", x, a1), a2)))
    assert prims(g).count("arange") == 1


def test_escaping_values_are_not_made_one_buffer():
    # Two .grad buffers zeroed by identical fulls stay two buffers.
    b = Builder()
    w1, w2 = b.lifted("w1", (3,)), b.lifted("w2", (3,))
    z1 = b("full", shape=(3,), value=0, dtype=w1.dtype)
    z2 = b("full", shape=(3,), value=0, dtype=w1.dtype)
    n1, n2 = b("neg", w1), b("neg", w1)
    g = check(cse, b.done(n1, n2, writes=[("@w1.grad", z1), ("@w2.grad", z2)]))
    assert prims(g) == ["full", "full", "neg", "neg"]
    assert len({id(v) for v in g.outputs}) == 2


def test_an_internal_duplicate_of_an_output_merges_into_it():
    b = Builder()
    x = b.input("x", (3,))
    e1, e2 = b("exp", x), b("exp", x)
    g = check(cse, b.done(e1, b("neg", e2)))
    assert prims(g) == ["exp", "neg"] and g.nodes[1].inputs == [e1]


def test_impure_primitives_never_merge():
    draw = Primitive("draw", "elementwise", lambda x: np.asarray(x) + 0.5,
                     P.neg.shape_rule, inputs=("x",))
    draw.kind = "random"
    b = Builder()
    x = b.input("x", (2,))
    r1, r2 = Value("r1", (2,), x.dtype), Value("r2", (2,), x.dtype)
    b.graph.nodes += [Node(draw, [x], {}, r1), Node(draw, [x], {}, r2)]
    b.graph.outputs = [r1, r2]
    g = cse(b.graph)
    assert prims(g) == ["draw", "draw"] and g.outputs == [r1, r2]


def test_mlp_backward_duplicates_merge():
    import stepjit as torch
    from tests.runtime.programs import mlp_sgd_momentum
    step, args, _ = mlp_sgd_momentum()
    graph = torch.make_ir(step)(*args)
    g = check(cse, graph)
    assert len(g.nodes) < len(graph.nodes)
