"""Constant folding: uniform constants become `full`, bit for bit; nothing big is embedded."""
import numpy as np
import pytest

from stepjit.ir.types import bool_, float32, float64, int64
from stepjit.passes.dce import dce
from stepjit.passes.fold import LIMIT, constants, fold

from .helpers import Builder, check, prims


def fold_dce(g):
    return dce(fold(g))


def test_root_gradient_chain_becomes_one_full():
    b = Builder()
    y = b.input("y", (8, 3))
    one = b("full", shape=(), value=1, dtype=float32)
    ex = b("expand", b("reshape", one, shape=(1, 1)), shape=(8, 3))
    two = b("mul", ex, 2)
    g = check(fold_dce, b.done(b("mul", two, y)))
    assert prims(g) == ["full", "mul"]
    assert g.nodes[0].attrs == {"shape": (8, 3), "value": 2.0, "dtype": float32}
    assert type(g.nodes[0].attrs["value"]) is float


@pytest.mark.parametrize("shape", [(3,), (100, 100)])
def test_exact_elementwise_on_full_folds_at_any_size(shape):
    b = Builder()
    y = b.input("y", shape, float64)
    c = b("full", shape=shape, value=0.1, dtype=float32)
    d = b("div", b("add", c, 1), 3.0)                      # f32 arithmetic on a uniform
    e = b("cast", d, dtype=float64)
    g = check(fold_dce, b.done(b("mul", e, y)))
    assert prims(g) == ["full", "mul"]
    want = np.float64((np.float32(0.1) + np.float32(1)) / np.float32(3.0))
    assert g.nodes[0].attrs["value"] == want


def test_signed_zero_and_nan_values_survive():
    b = Builder()
    y = b.input("y", (4,))
    nz = b("neg", b("full", shape=(4,), value=0.0, dtype=float32))
    nn = b("div", b("full", shape=(4,), value=0.0, dtype=float32), 0.0)
    g = check(fold_dce, b.done(b("div", y, nz), b("add", y, nn)))
    values = [n.attrs["value"] for n in g.nodes if n.prim.name == "full"]
    assert np.signbit(values[0]) and values[0] == 0 and np.isnan(values[1])


def test_small_constants_are_replayed_exactly_even_through_inexact_ops():
    b = Builder()
    y = b.input("y", (4, 4))
    c = b("exp", b("full", shape=(4, 4), value=0.3, dtype=float32))
    s = b("sum", b("full", shape=(5,), value=0.1, dtype=float32), axis=None, keepdims=False)
    g = check(fold_dce, b.done(b("mul", c, y), b("add", y, s)))
    assert sorted(prims(g)) == ["add", "full", "full", "mul"]
    assert [n.attrs["shape"] for n in g.nodes if n.prim.name == "full"] == [(4, 4), ()]


def test_large_inexact_constants_are_left_alone():
    n = LIMIT * 4
    b = Builder()
    y = b.input("y", (n,))
    c = b("exp", b("full", shape=(n,), value=0.3, dtype=float32))    # SIMD exp may differ
    s = b("sum", b("full", shape=(n, 2), value=0.1, dtype=float32), axis=(1,), keepdims=False)
    g = check(fold_dce, b.done(b("mul", c, y), b("add", y, s)))
    assert prims(g).count("exp") == 1 and prims(g).count("sum") == 1


def test_non_uniform_constants_keep_their_nodes_and_nothing_big_is_embedded():
    b = Builder()
    y = b.input("y", (1000,), int64)
    a = b("arange", start=0, stop=1000, step=1, dtype=int64)
    small = b("mul", b("arange", start=0, stop=4, step=1, dtype=int64), 2)
    g = check(fold_dce, b.done(b("add", a, y), small))
    assert sorted(prims(g)) == ["add", "arange", "arange", "mul"]
    for node in g.nodes:
        for v in node.attrs.values():
            assert not isinstance(v, np.ndarray)


def test_constants_read_by_layout_sensitive_ops_are_not_replaced():
    # A broadcast view feeding matmul or sum stays a view: BLAS and pairwise summation
    # can give other bits on a contiguous copy. (The sum itself is a small constant,
    # replayed exactly on the view, so it folds.)
    n = LIMIT * 2
    b = Builder()
    w = b.input("w", (3, 2))
    ex = b("expand", b("full", shape=(1, 3), value=0.5, dtype=float32), shape=(n, 3))
    m = b("matmul", ex, w)
    s = b("sum", ex, axis=(0,), keepdims=False)
    small = b("sum", b("expand", b("full", shape=(1, 3), value=0.5, dtype=float32),
                       shape=(4, 3)), axis=None, keepdims=False)
    g = check(fold, b.done(m, s, small))
    assert prims(g) == ["full", "expand", "matmul", "sum", "full", "expand", "full"]


def test_fold_is_idempotent_on_full_and_leaves_non_constants():
    b = Builder()
    x = b.input("x", (3,))
    f = b("full", shape=(3,), value=2, dtype=float32)
    g = check(fold, b.done(b("mul", x, f)))
    assert prims(g) == ["full", "mul"]


def test_bool_and_comparison_constants():
    b = Builder()
    x = b.input("x", (70,))
    mask = b("lt", b("full", shape=(70,), value=1.0, dtype=float32), 2.0)
    both = b("logical_and", mask, b("full", shape=(70,), value=True, dtype=bool_))
    g = check(fold_dce, b.done(b("where", both, x, 0.0)))
    assert prims(g) == ["full", "where"] and g.nodes[0].attrs["value"] is True


def test_constants_analysis_reports_uniform_scalars():
    b = Builder()
    one = b("full", shape=(), value=1, dtype=float32)
    big = b("expand", b("reshape", one, shape=(1, 1)), shape=(500, 500))
    g = b.done(big)
    consts = constants(g)
    assert consts[big].scalar == np.float32(1) and consts[big].array is None
