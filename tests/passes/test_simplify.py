"""Algebraic simplification: every applied rule keeps every bit; the unsafe ones are refused."""
import numpy as np
import pytest

from stepjit.ir.types import float32, float64, int64
from stepjit.passes.dce import dce
from stepjit.passes.fold import fold
from stepjit.passes.simplify import simplify

from .helpers import Builder, check, prims


def simp(g):
    return dce(simplify(g))


def one_op(prim, *args, shape=(4, 5), dtype=float32, **attrs):
    """Graph computing neg(prim(x, args...)) where "x" stands for the input. (The neg keeps
    the result from being an output, which may never become the input itself.)"""
    b = Builder()
    x = b.input("x", shape, dtype)
    out = b(prim, *[x if a == "x" else a for a in args], **attrs)
    return b.done(b("neg", out) if dtype.category else out), x


# -- identities that hold bit for bit -------------------------------------------------
@pytest.mark.parametrize("prim,args", [
    ("mul", ("x", 1.0)), ("mul", (1, "x")), ("mul", ("x", True)), ("div", ("x", 1.0)),
    ("pow", ("x", 1)), ("add", ("x", -0.0)), ("add", (-0.0, "x")), ("sub", ("x", 0.0)),
    ("sub", ("x", 0)),
])
@pytest.mark.parametrize("dtype", [float32, float64])
def test_float_identities_vanish(prim, args, dtype):
    g, x = one_op(prim, *args, dtype=dtype)
    out = check(simp, g)
    assert prims(out) == ["neg"] and out.nodes[0].inputs == [x]


@pytest.mark.parametrize("prim,args", [("add", ("x", 0)), ("sub", ("x", 0)), ("mul", ("x", 1))])
def test_integer_identities_vanish(prim, args):
    b = Builder()
    x = b.input("x", (6,), int64)
    g = b.done(b("neg", b(prim, *[x if a == "x" else a for a in args])))
    assert prims(check(simp, g)) == ["neg"]


# -- rewrites refused, each for a reason ----------------------------------------------------
@pytest.mark.parametrize("prim,args,why", [
    ("mul", ("x", 0.0), "nan*0 is nan, -x*0 is -0.0"),
    ("mul", ("x", 0), "same, with an int literal"),
    ("add", ("x", 0.0), "-0.0 + 0.0 is +0.0"),
    ("add", ("x", 0), "int 0 becomes +0.0"),
    ("sub", ("x", -0.0), "x - (-0.0) is x + 0.0"),
    ("sub", (0.0, "x"), "0 - 0 is +0.0, not -0.0"),
    ("div", (1.0, "x"), "not x / 1"),
    ("sub", ("x", "x"), "inf - inf is nan"),
    ("div", ("x", "x"), "0/0 is nan"),
    ("copy", ("x",), "a clone is a fresh buffer"),
])
def test_unsafe_float_rewrites_are_not_done(prim, args, why):
    g, _ = one_op(prim, *args)
    assert prims(check(simp, g)) == [prim, "neg"], why


def test_identity_refused_when_broadcasting_changes_the_shape():
    b = Builder()
    x = b.input("x", (3,))
    ones = b("full", shape=(2, 3), value=1.0, dtype=float32)
    nzeros = b("full", shape=(2, 3), value=-0.0, dtype=float32)
    g = b.done(b("mul", x, ones), b("add", nzeros, x), b("add", b("reshape", x, shape=(1, 3)), -0.0))
    out = check(simp, g)
    assert sorted(prims(out)) == ["add", "full", "full", "mul", "reshape"]


def test_identity_refused_when_promotion_changes_the_dtype():
    b = Builder()
    xi = b.input("xi", (3,), int64)
    xf = b.input("xf", (3,), float32)
    g = b.done(b("mul", xi, 1.0), b("add", xf, np.float64(-0.0).item()),
               b("mul", xf, b("full", shape=(), value=1.0, dtype=float64)))
    out = check(simp, g)
    assert prims(out)[0] == "mul"      # int * 1.0 is a float tensor


def test_literal_that_rounds_to_one_in_float32_is_still_one():
    # 1 + 2**-30 is 1.0 in float32: x * that literal is x * 1.0 there.
    g, x = one_op("mul", "x", 1.0 + 2.0 ** -30)
    assert prims(check(simp, g)) == ["neg"]
    g, _ = one_op("mul", "x", 1.0 + 2.0 ** -30, dtype=float64)
    assert prims(check(simp, g)) == ["mul", "neg"]


def test_square_becomes_multiply():
    for dtype in (float32, float64, int64):
        g, x = one_op("pow", "x", 2, dtype=dtype)
        out = check(simp, g)
        assert prims(out) == ["mul", "neg"] and out.nodes[0].inputs == [x, x]
    g, _ = one_op("pow", "x", 3)
    assert prims(check(simp, g)) == ["pow", "neg"]


def test_square_matches_power_on_every_kind_of_float():
    rng = np.random.default_rng(1)
    for ftype, itype in ((np.float32, np.uint32), (np.float64, np.uint64)):
        x = rng.integers(0, np.iinfo(itype).max, 200_000, dtype=itype).view(ftype)
        with np.errstate(all="ignore"):
            a, b = np.power(x, ftype(2)), x * x
        nan = np.isnan(a)
        assert np.array_equal(nan, np.isnan(b))
        assert np.array_equal(a[~nan].view(itype), b[~nan].view(itype))


def test_double_negation():
    b = Builder()
    x = b.input("x", (3, 2))
    n4 = b("neg", b("neg", b("neg", b("neg", x))))
    n3 = b("neg", b("neg", b("neg", x)))
    out = check(simp, b.done(b("add", n4, n3)))
    assert prims(out) == ["neg", "add"]


# -- movement -----------------------------------------------------------------------------
def test_moves_to_the_same_shape_vanish():
    b = Builder()
    x = b.input("x", (2, 3))
    y = b("expand", b("reshape", b("transpose", x, perm=(0, 1)), shape=(2, 3)), shape=(2, 3))
    out = check(simp, b.done(b("exp", y)))
    assert prims(out) == ["exp"] and out.nodes[0].inputs == [x]


def test_transposes_compose():
    b = Builder()
    x = b.input("x", (2, 3, 4))
    t = b("transpose", b("transpose", x, perm=(1, 2, 0)), perm=(2, 0, 1))   # identity
    u = b("transpose", b("transpose", x, perm=(1, 0, 2)), perm=(0, 2, 1))
    out = check(simp, b.done(b("neg", t), b("neg", u)))
    assert prims(out) == ["transpose", "neg", "neg"]
    assert out.nodes[0].inputs == [x] and out.nodes[0].attrs["perm"] == (1, 2, 0)
    assert out.nodes[1].inputs == [x]


def test_reshapes_compose_only_across_unit_dims():
    b = Builder()
    x = b.input("x", (4, 6))
    unit = b("reshape", b("reshape", x, shape=(4, 1, 6)), shape=(24,))
    general = b("reshape", b("reshape", x, shape=(2, 12)), shape=(24,))
    out = check(simp, b.done(b("neg", unit), b("neg", general)))
    assert prims(out) == ["reshape", "reshape", "reshape", "neg", "neg"]
    assert out.nodes[0].inputs == [x] and out.nodes[0].attrs["shape"] == (24,)


def test_layout_claims_behind_the_move_rules():
    # reshape(reshape(x, s), t) with s = x.shape up to 1s, and expand(expand(x)), give
    # exactly the strides of the direct move, whatever x's layout.
    base = np.arange(240.0).reshape(4, 6, 10)
    layouts = [base[:, :, 0], base[:, 0, :].T, base[::2, ::3, 1], base[0].T,
               np.broadcast_to(base[0, 0, :6], (4, 6)), base[1:3, :, 2]]
    for x in layouts:
        s = x.shape[:1] + (1,) + x.shape[1:]
        for t in [(x.size,), x.shape[::-1], (1,) + x.shape, (x.shape[0], 1, -1)]:
            direct, chained = np.reshape(x, t), np.reshape(np.reshape(x, s), t)
            assert direct.strides == chained.strides and np.array_equal(direct, chained)
        e1 = np.broadcast_to(x[:1], (3,) + x.shape[:1] and (3, 1) + x.shape[1:])
        assert np.broadcast_to(e1, (2,) + e1.shape).strides == \
            np.broadcast_to(x[:1], (2,) + e1.shape).strides


def test_expands_compose():
    b = Builder()
    x = b.input("x", (3, 1))
    e = b("expand", b("expand", x, shape=(3, 4)), shape=(2, 3, 4))
    out = check(simp, b.done(b("neg", e)))
    assert prims(out) == ["expand", "neg"] and out.nodes[0].inputs == [x]


def test_cast_to_own_dtype():
    b = Builder()
    x = b.input("x", (3,))
    fresh = b("exp", x)
    g = b.done(b("neg", b("cast", fresh, dtype=float32)), b("neg", b("cast", x, dtype=float32)))
    out = check(simp, g)
    assert prims(out) == ["exp", "neg", "cast", "neg"]   # the input's layout is unknown


def test_outputs_and_writes_are_not_turned_into_inputs_or_each_other():
    b = Builder()
    x, w = b.input("x", (3,)), b.lifted("w", (3,))
    e = b("exp", x)
    g = b.done(b("mul", x, 1.0), b("reshape", e, shape=(3,)), e,
               writes=[("@w", b("add", w, -0.0))])
    out = check(simp, g)
    assert out.outputs[0] is not x and out.writes[0][1] is not w
    assert out.outputs[1] is not out.outputs[2]


# -- full operands become literals ------------------------------------------------------------
def test_root_gradient_becomes_a_literal():
    b = Builder()
    y = b.input("y", (8, 3))
    one = b("full", shape=(), value=1, dtype=float32)
    ex = b("expand", b("reshape", one, shape=(1, 1)), shape=(8, 3))
    g = b.done(b("mul", b("mul", ex, 2), y))
    out = check(lambda g: dce(simplify(fold(g))), g)
    assert prims(out) == ["mul"] and out.nodes[0].inputs == [2.0, y]


def test_full_operands_of_another_dtype_convert_like_the_op_does():
    b = Builder()
    x32, x64, xi = b.input("a", (5,)), b.input("b", (5,), float64), b.input("c", (5,), int64)
    c64 = b("full", shape=(5,), value=0.1, dtype=float64)
    c32 = b("full", shape=(5,), value=0.1, dtype=float32)
    ci = b("full", shape=(5,), value=3, dtype=int64)
    g = b.done(b("add", x32, c64), b("add", x64, c32), b("mul", xi, c32), b("lt", x32, c64),
               b("lt", x32, c32), b("mul", x64, ci), b("where", b("lt", x32, 0.0), c32, x64))
    out = check(simp, g)
    assert prims(out).count("full") <= 2      # lt(f32, f64 full) compares in f64: kept
    lt32 = [n for n in out.nodes if n.prim.name == "lt" and n.inputs[0] is x32]
    assert any(isinstance(n.inputs[1], float) for n in lt32)
