"""The primitive registry, checked from one table of sample inputs (Thunder-style).

`SAMPLES` holds, per primitive, sample arguments, attributes, an independent
NumPy reference and, where the op has a PyTorch spelling, the same call written
against a torch-shaped module (`api(T, *tensors)`), so that the oracle tests in
tests/oracle can replay the table against PyTorch.

For every primitive in `stepjit.ir.primitives.PRIMITIVES` the tests demand an
impl, a shape rule, at least one sample, and either a passing float64 gradient
check of every differentiable input against central finite differences, or an
explicit place in `NON_DIFFERENTIABLE`. `COMPOSITES` does the same for the
front-end functions built from primitives, and `PROMOTION` pins PyTorch's
dtype promotion rules.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import stepjit
from stepjit import autograd
from stepjit.dispatch import apply, aval_of
from stepjit.ir.primitives import PRIMITIVES
from stepjit.ir.types import as_dtype

RNG = np.random.default_rng(0)


def r(*shape):
    """Float64 values away from 0 (so kinks and ties are not hit by accident)."""
    a = RNG.uniform(0.5, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)
    return np.asarray(a, dtype=np.float64)


def pos(*shape):
    return np.asarray(RNG.uniform(0.5, 2.0, shape), dtype=np.float64)


def ints(*shape, lo=-5, hi=5):
    return RNG.integers(lo, hi, shape).astype(np.int64)


RNG_ERFINV = np.random.default_rng(4242)   # (its own: the shared RNG's later draws unchanged)


def _unit(*shape):
    """Float64 values inside (-1, 1), erfinv's domain."""
    return RNG_ERFINV.uniform(-0.99, 0.99, shape)


def _erfinv_by_bisection(y):
    """The x with math.erf(x) == y, by 200 bisections of [-6, 6] (independent of
    erfinv_fn.py's polynomial and Newton steps)."""
    lo, hi = -6.0, 6.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if __import__("math").erf(mid) < y:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _bessel_i1_by_integral(x):
    t = np.linspace(0.0, np.pi, 4001)
    vals = np.exp(np.multiply.outer(np.asarray(x, np.float64), np.cos(t))) * np.cos(t)
    return np.trapezoid(vals, t, axis=-1) / np.pi


def _series_digamma(x):
    """digamma from its series, independent of gamma_fns.py: -gamma + sum 1/(k+1) - 1/(k+x),
    summed to 10^6 terms plus the tail's integral (error < 1e-12 for these x)."""
    k = np.arange(1_000_000, dtype=np.float64)[:, None]
    flat = np.asarray(x, np.float64).reshape(-1)
    out = -0.5772156649015329 + (1 / (k + 1) - 1 / (k + flat)).sum(0)
    out += np.log((1e6 + flat) / (1e6 + 1))
    return out.reshape(np.shape(x))


def _series_polygamma(x, n):
    """(-1)^(n+1) n! sum 1/(x+k)^(n+1), to 10^6 terms plus the tail's integral."""
    k = np.arange(1_000_000, dtype=np.float64)[:, None]
    flat = np.asarray(x, np.float64).reshape(-1)
    tail = (1e6 + flat) ** -n / n
    total = ((k + flat) ** -(n + 1.0)).sum(0) + tail
    return ((-1) ** (n + 1) * __import__("math").factorial(n) * total).reshape(np.shape(x))


# index_reduce: rows of a base, several values into one row, one row untouched
_IR_BASE = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5], [3.0, -2.0]])
_IR_VALUES = np.array([[1.25, -0.5], [0.1, 0.9], [-3.0, 2.5]])
_IR_INDEX = np.array([0, 2, 0])


def _np_reduce_at(ufunc, base, values, index):
    out = base.copy()
    for v, i in zip(values, index):
        out[i] = ufunc(out[i], v)
    return out


# bitwise operands: signs, a value past 2^40, shift amounts past the width and negative
_BW_A = np.array([[1, -8, 5, 2 ** 62], [-(2 ** 40) - 3, 0, 7, -1]], np.int64)
_BW_B = np.array([3, -2, 12, 2 ** 33 + 1], np.int64)
_BW_SHIFT = np.array([[64, 65, -1, 2], [70, 3, 0, 63]], np.int64)
_BW_U8 = np.array([200, 7, 255, 0, 1, 128], np.uint8)
_BW_I32 = np.array([[6, -6, 1, 0], [9, 2, -3, 5]], np.int32)
_M3 = np.random.default_rng(33).standard_normal((3, 3))   # (own stream: RNG unchanged)
SYM3 = _M3 + _M3.T
SPD3 = _M3 @ _M3.T
SPD3 = SPD3 + SPD3.T + 3 * np.eye(3)


def _lu_ref(a):
    """Doolittle's elimination with row pivoting, one matrix, element by element: (L - I + U
    packed, LAPACK's 1-based pivots as int32)."""
    a = a.copy()
    m, n = a.shape
    pivots = []
    for j in range(min(m, n)):
        p = max(range(j, m), key=lambda i: abs(a[i, j]))
        pivots.append(p + 1)
        a[[j, p]] = a[[p, j]]
        for i in range(j + 1, m):
            a[i, j] /= a[j, j]
            for c in range(j + 1, n):
                a[i, c] -= a[i, j] * a[j, c]
    return a, np.array(pivots, dtype=np.int32)


class Sample:
    """One call of a primitive: `apply(prim, *args, **attrs)`.

    args     NumPy arrays (become tensors) or Python scalars (passed as literals)
    ref      independent NumPy reference: ref(*args, **attrs) -> array
    grad     indices of args to differentiate (default: every float64 array)
    dtype    expected result dtype name, when the sample pins a promotion rule
    api      the same call in PyTorch's API, api(T, *tensors), for the oracle tests
    """

    def __init__(self, args, ref, attrs=None, grad=None, dtype=None, api=None, note=""):
        # a NumPy scalar would silently become a Python-scalar literal: make it a 0-dim array
        self.args = tuple(np.asarray(a) if isinstance(a, np.generic) else a for a in args)
        self.attrs = attrs or {}
        self.ref = ref
        self.dtype = dtype
        self.api = api
        self.note = note
        if grad is None:
            grad = [i for i, a in enumerate(self.args)
                    if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        self.grad = tuple(grad)

    def tensors(self, requires_grad=()):
        out = []
        for i, a in enumerate(self.args):
            if isinstance(a, np.ndarray):
                t = stepjit.tensor(a.copy(), dtype=as_dtype(a.dtype))
                if i in requires_grad:
                    t.requires_grad_()
                out.append(t)
            else:
                out.append(a)
        return out


def S(*args, ref, **kw):
    return Sample(args, ref, **kw)


def _ew1(name, fn, domain=r, api=None):
    return [S(domain(3, 4), ref=fn, api=api),
            S(domain(), ref=fn, api=api, note="0-dim"),
            S(domain(5).astype(np.float32), ref=fn, api=api, note="float32")]


def _ew2(np_fn, api, second=r):
    return [
        S(r(2, 3), second(2, 3), ref=np_fn, api=api),
        S(r(2, 3), second(3), ref=np_fn, api=api, note="broadcast rhs"),
        S(r(4, 1), second(1, 3), ref=np_fn, api=api, note="broadcast both"),
        S(r(2, 3), second(), ref=np_fn, api=api, note="0-dim rhs"),
        S(r(2, 3), 1.5, ref=np_fn, api=api, note="python float"),
        S(2.5, second(3), ref=np_fn, api=api, note="python float lhs"),
        S(r(3).astype(np.float32), second(3), ref=np_fn, api=api, dtype="float64",
          note="f32 + f64"),
    ]


def _cmp(np_fn, api):
    return [S(r(2, 3), r(3), ref=np_fn, api=api),
            S(ints(4), 0, ref=np_fn, api=api, note="int vs python int"),
            S(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0]), ref=np_fn, api=api)]


def _bools(*shape):
    return RNG.random(shape) < 0.5


def _np_index_put(base, values, *idx, key, accumulate):
    from stepjit.ir.primitives.indexing import np_key
    out = base.copy()
    if accumulate:
        np.add.at(out, np_key(key, idx), values)
    else:
        out[np_key(key, idx)] = values
    return out


def _np_fft(x, axes, inverse, scale):
    """The DFT written out: out[k] = scale * sum_j x[j] exp(-+2 pi i j k / n), axis by axis."""
    z = x[..., 0].astype(np.complex128) + 1j * x[..., 1]
    for a in axes:
        n = z.shape[a]
        j = np.arange(n)
        w = np.exp((2j if inverse else -2j) * np.pi * np.outer(j, j) / n)
        z = np.moveaxis(np.tensordot(np.moveaxis(z, a, -1), w, axes=([-1], [0])), -1, a)
    z = z * scale
    return np.stack([z.real, z.imag], -1).astype(x.dtype)


def _np_as_strided(x, size, stride, offset):
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(size, x.dtype)
    for i in np.ndindex(*size):
        out[i] = flat[offset + sum(a * b for a, b in zip(i, stride))]
    return out


def _np_slice_scatter(base, src, key):
    out = base.copy()
    out[tuple(slice(*k) if isinstance(k, tuple) else k for k in key)] = src
    return out


def _np_slice(x, key):
    return x[tuple(slice(*k) if isinstance(k, tuple) else k for k in key)]


def _np_window_start(start, n, size, step):
    """XLA's DynamicSlice start over Python's reading of a slice start (negative from the end)."""
    s = start + n if start < 0 else start
    return min(max(s, 0), n - (size - 1) * step - 1)


def _np_dynamic_slice(x, start, axis, size, step):
    s = _np_window_start(int(start), x.shape[axis], size, step)
    return np.take(x, np.arange(s, s + size * step, step), axis=axis)


def _np_dynamic_update_slice(base, update, start, axis, step):
    size = update.shape[axis]
    s = _np_window_start(int(start), base.shape[axis], size, step)
    out = np.moveaxis(base.copy(), axis, 0)
    out[s:s + size * step:step] = np.moveaxis(update, axis, 0)
    return np.moveaxis(out, 0, axis)


F64 = stepjit.float64
ALL = (None, None, None)

SAMPLES: dict[str, list[Sample]] = {
    # -- arithmetic ------------------------------------------------------------
    "add": _ew2(np.add, lambda T, x, y: T.add(x, y)) + [
        S(_bools(3), _bools(3), ref=np.logical_or, dtype="bool", note="bool + bool")],
    "sub": _ew2(np.subtract, lambda T, x, y: T.sub(x, y)),
    "mul": _ew2(np.multiply, lambda T, x, y: T.mul(x, y)) + [
        S(_bools(3), _bools(3), ref=np.logical_and, dtype="bool", note="bool * bool")],
    "div": _ew2(np.true_divide, lambda T, x, y: T.div(x, y)) + [
        S(ints(4), np.array([1, 2, 3, 4]), ref=np.true_divide, dtype="float32",
          api=lambda T, x, y: T.div(x, y), note="int / int")],
    "floor_divide": [
        S(np.array([7.3, -7.3, 2.5]), np.array([2.0, 2.0, -3.0]), ref=np.floor_divide,
          api=lambda T, x, y: T.div(x, y, rounding_mode="floor")),
        S(np.array([1.0, -1.0]), np.array([0.1, 0.1]), ref=np.floor_divide, grad=(),
          api=lambda T, x, y: x // y, note="python's rule: 1 // 0.1 == 9"),
        S(np.array([16777217, 33554435, -7, 7]), np.array([1, 2, 2, -2]), ref=np.floor_divide,
          dtype="int64", api=lambda T, x, y: x // y, note="int64 stays exact"),
        S(np.array([[4.3, -1.7, 0.6], [9.1, -5.5, 3.2]]), 2, ref=np.floor_divide,
          api=lambda T, x, y: T.div(x, y, rounding_mode="floor"), note="python int"),
    ],
    "pow": [
        S(pos(2, 3), r(2, 3), ref=np.power, api=lambda T, x, y: T.pow(x, y)),
        S(r(2, 3), 2, ref=np.power, api=lambda T, x, y: T.pow(x, y), note="int exponent"),
        S(r(2, 3), 0, ref=np.power, api=lambda T, x, y: T.pow(x, y), note="zero exponent"),
        S(pos(3), 0.5, ref=np.power, api=lambda T, x, y: T.pow(x, y), note="sqrt"),
        S(2.0, r(3), ref=np.power, api=lambda T, x, y: T.pow(x, y), note="scalar base"),
        S(pos(2, 1), r(3), ref=np.power, api=lambda T, x, y: T.pow(x, y), note="broadcast"),
        S(ints(3, lo=1), 2, ref=np.power, dtype="int64", api=lambda T, x, y: T.pow(x, y)),
    ],
    "atan2": [s for s in _ew2(np.arctan2, lambda T, x, y: T.atan2(x, y))
              if "python" not in s.note] + [   # (torch.atan2 takes tensors only)
        S(np.array([0.0, 1.0, -1.0, 0.0]), np.array([-1.0, 0.0, 0.0, 1.0]), ref=np.arctan2,
          grad=(), api=lambda T, x, y: T.atan2(x, y), note="axes and quadrants"),
        S(ints(3), ints(3, lo=1), ref=np.arctan2, dtype="float32", note="int -> float32")],
    "maximum": _ew2(np.maximum, lambda T, x, y: T.maximum(x, y))[:4] + [
        S(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0]), ref=np.maximum, note="tie",
          api=lambda T, x, y: T.maximum(x, y))],
    "minimum": _ew2(np.minimum, lambda T, x, y: T.minimum(x, y))[:4] + [
        S(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0]), ref=np.minimum, note="tie",
          api=lambda T, x, y: T.minimum(x, y))],
    # -- unary -----------------------------------------------------------------
    "neg": _ew1("neg", np.negative, api=lambda T, x: T.neg(x)) + [
        S(ints(3), ref=np.negative, dtype="int64")],
    "exp": _ew1("exp", np.exp, api=lambda T, x: T.exp(x)) + [
        S(ints(3), ref=np.exp, dtype="float32", note="int -> float32")],
    "log": _ew1("log", np.log, pos, api=lambda T, x: T.log(x)),
    "log1p": _ew1("log1p", np.log1p, pos, api=lambda T, x: T.log1p(x)),
    "sqrt": _ew1("sqrt", np.sqrt, pos, api=lambda T, x: T.sqrt(x)),
    "sin": _ew1("sin", np.sin, api=lambda T, x: T.sin(x)),
    "cos": _ew1("cos", np.cos, api=lambda T, x: T.cos(x)),
    "tanh": _ew1("tanh", np.tanh, api=lambda T, x: T.tanh(x)),
    "sinh": _ew1("sinh", np.sinh),
    "sigmoid": _ew1("sigmoid", lambda x: 1 / (1 + np.exp(-x)), api=lambda T, x: T.sigmoid(x)) + [
        S(np.array([-800.0, 800.0, 0.0]), ref=lambda x: np.array([0.0, 1.0, 0.5]), grad=(),
          note="no overflow")],
    "relu": _ew1("relu", lambda x: np.maximum(x, 0), api=lambda T, x: T.relu(x)) + [
        S(ints(4), ref=lambda x: np.maximum(x, 0), dtype="int64")],
    "log2": _ew1("log2", np.log2, pos, api=lambda T, x: T.log2(x)),
    "log10": _ew1("log10", np.log10, pos, api=lambda T, x: T.log10(x)),
    "expm1": _ew1("expm1", np.expm1, api=lambda T, x: T.expm1(x)),
    "erf": _ew1("erf", np.vectorize(__import__("math").erf), api=lambda T, x: T.erf(x)),
    # erfinv: checked by erf(erfinv(y)) == y (the reference inverts math.erf by bisection)
    "erfinv": _ew1("erfinv", np.vectorize(_erfinv_by_bisection),
                   domain=_unit,
                   api=lambda T, x: T.erfinv(x)),
    # Bessel I0/I1 (and scaled): NumPy's i0, and I1 from its integral
    # (1/pi) int_0^pi e^{x cos t} cos t dt by the trapezoid rule (periodic: exact to rounding)
    "i0": _ew1("i0", np.i0, api=lambda T, x: T.special.i0(x)),
    "i0e": _ew1("i0e", lambda x: np.i0(x) * np.exp(-np.abs(x)),
                api=lambda T, x: T.special.i0e(x)),
    "i1": _ew1("i1", lambda x: _bessel_i1_by_integral(x), api=lambda T, x: T.special.i1(x)),
    "i1e": _ew1("i1e", lambda x: _bessel_i1_by_integral(x) * np.exp(-np.abs(x)),
                api=lambda T, x: T.special.i1e(x)),
    # ndtri inverts the normal CDF: sqrt(2) erfinv(2p - 1), erfinv by bisection of math.erf
    "ndtri": _ew1("ndtri", lambda p: np.sqrt(2.0) * np.vectorize(_erfinv_by_bisection)(2 * p - 1),
                  domain=lambda *shape: (_unit(*shape) + 1) / 2,
                  api=lambda T, x: T.special.ndtri(x)),
    "erfcx": _ew1("erfcx", np.vectorize(lambda v: __import__("math").exp(v * v)
                                        * __import__("math").erfc(v)),
                  api=lambda T, x: T.special.erfcx(x)),
    # the gamma family: references from Python's math and the series they satisfy
    "lgamma": _ew1("lgamma", np.vectorize(__import__("math").lgamma), domain=pos,
                   api=lambda T, x: T.lgamma(x)),
    "digamma": [
        S(pos(3, 4), ref=lambda x: _series_digamma(x), api=lambda T, x: T.digamma(x)),
        S(np.array([-0.5, -2.3, 1.0]), ref=lambda x: _series_digamma(x), note="negative",
          api=lambda T, x: T.special.psi(x)),
    ],
    "polygamma": [
        # (PyTorch's trigamma, which stepjit's follows, is accurate to ~1e-9 below x = 10: the
        # sample sits where it holds 1e-12; tests/ops/test_gamma.py checks small x vs PyTorch)
        S(pos(3, 4) * 10 + 10, attrs=dict(n=1), ref=lambda x, n: _series_polygamma(x, n),
          api=lambda T, x: T.polygamma(1, x)),
        S(pos(5), attrs=dict(n=3), ref=lambda x, n: _series_polygamma(x, n),
          api=lambda T, x: T.special.polygamma(3, x)),
    ],
    "abs": _ew1("abs", np.abs, api=lambda T, x: T.abs(x)),
    "sign": _ew1("sign", np.sign, api=lambda T, x: T.sign(x)) + [
        S(np.array([np.nan, -0.0, 0.0, -2.0]), ref=lambda x: np.array([0.0, 0.0, 0.0, -1.0]),
          grad=(), note="sign(nan) is 0, as PyTorch")],
    "floor": _ew1("floor", np.floor, lambda *s: np.asarray(r(*s) * 3.1), api=lambda T, x: T.floor(x)),
    "ceil": _ew1("ceil", np.ceil, lambda *s: np.asarray(r(*s) * 3.1), api=lambda T, x: T.ceil(x)),
    "round": _ew1("round", np.round, lambda *s: np.asarray(r(*s) * 3.1), api=lambda T, x: T.round(x)),
    "clamp": [
        S(r(3, 4), attrs=dict(lo=-0.9, hi=1.1), ref=lambda x, lo, hi: np.clip(x, lo, hi),
          api=lambda T, x: T.clamp(x, -0.9, 1.1)),
        S(r(3, 4), attrs=dict(lo=0.6, hi=None), ref=lambda x, lo, hi: np.maximum(x, lo),
          api=lambda T, x: T.clamp(x, min=0.6)),
        S(r(3, 4), attrs=dict(lo=None, hi=-0.7), ref=lambda x, lo, hi: np.minimum(x, hi),
          api=lambda T, x: T.clamp(x, max=-0.7)),
        S(ints(5), attrs=dict(lo=-1, hi=2), ref=lambda x, lo, hi: np.clip(x, lo, hi),
          dtype="int64"),
    ],
    # -- comparisons and logic ---------------------------------------------------
    "eq": _cmp(np.equal, lambda T, x, y: T.eq(x, y)),
    "ne": _cmp(np.not_equal, lambda T, x, y: T.ne(x, y)),
    "lt": _cmp(np.less, lambda T, x, y: T.lt(x, y)),
    "le": _cmp(np.less_equal, lambda T, x, y: T.le(x, y)),
    "gt": _cmp(np.greater, lambda T, x, y: T.gt(x, y)),
    "ge": _cmp(np.greater_equal, lambda T, x, y: T.ge(x, y)),
    "logical_not": [S(_bools(2, 3), ref=np.logical_not, api=lambda T, x: T.logical_not(x))],
    "logical_and": [S(_bools(2, 3), _bools(3), ref=np.logical_and,
                      api=lambda T, x, y: T.logical_and(x, y))],
    "logical_or": [S(_bools(2, 3), _bools(3), ref=np.logical_or,
                     api=lambda T, x, y: T.logical_or(x, y))],
    # -- index_reduce (fixed values, distinct: a tie has no derivative) -------------------------
    "index_reduce": [
        S(_IR_BASE, _IR_VALUES, _IR_INDEX, attrs=dict(key=("T",), reduce="amax"),
          ref=lambda b, v, i, key, reduce: _np_reduce_at(np.maximum, b, v, i), grad=(0, 1)),
        S(_IR_BASE, _IR_VALUES, _IR_INDEX, attrs=dict(key=("T",), reduce="amin"),
          ref=lambda b, v, i, key, reduce: _np_reduce_at(np.minimum, b, v, i), grad=(0, 1),
          note="amin")],
    # -- bitwise (fixed values: the shared RNG's stream stays as it was) -----------------------
    "bitwise_and": [S(_BW_A, _BW_B, ref=np.bitwise_and, api=lambda T, x, y: x & y),
                    S(_BW_U8, 12, ref=np.bitwise_and, dtype="uint8", note="uint8 & int")],
    "bitwise_or": [S(_BW_A, _BW_B, ref=np.bitwise_or, api=lambda T, x, y: x | y),
                   S(_BW_I32, _BW_B, ref=np.bitwise_or, dtype="int64", note="int32 | int64")],
    "bitwise_xor": [S(_BW_A, _BW_B, ref=np.bitwise_xor, api=lambda T, x, y: x ^ y),
                    S(_BW_A > 0, _BW_B > 0, ref=np.bitwise_xor, dtype="bool", note="bool")],
    "bitwise_not": [S(_BW_A, ref=np.invert, api=lambda T, x: ~x),
                    S(_BW_U8, ref=np.invert, dtype="uint8", note="uint8"),
                    S(_BW_A > 0, ref=np.invert, dtype="bool", note="bool")],
    "left_shift": [S(_BW_A, _BW_SHIFT, ref=np.left_shift, api=lambda T, x, y: x << y,
                     note="out of range amounts"),
                   S(_BW_U8, 3, ref=np.left_shift, dtype="uint8", note="uint8 wraps")],
    "right_shift": [S(_BW_A, _BW_SHIFT, ref=np.right_shift, api=lambda T, x, y: x >> y,
                      note="out of range amounts"),
                    S(_BW_U8, 9, ref=np.right_shift, dtype="uint8", note="uint8")],
    "gcd": [S(_BW_A, _BW_B, ref=np.gcd, api=lambda T, x, y: T.gcd(x, y)),
            S(np.array([0, 0, -12, 7], np.int64), np.array([0, -4, 18, 0], np.int64),
              ref=np.gcd, api=lambda T, x, y: T.gcd(x, y), note="zeros and signs"),
            S(_BW_I32, _BW_B, ref=np.gcd, dtype="int64", note="int32 with int64")],
    # -- selection and conversion --------------------------------------------------
    "where": [
        S(_bools(2, 3), r(2, 3), r(2, 3), ref=np.where, api=lambda T, c, x, y: T.where(c, x, y)),
        S(_bools(2, 1), r(3), r(2, 3), ref=np.where, api=lambda T, c, x, y: T.where(c, x, y),
          note="broadcast"),
        S(_bools(2, 3), r(2, 3), 0.0, ref=np.where, api=lambda T, c, x, y: T.where(c, x, y),
          note="python scalar"),
        S(_bools(3), ints(3), 0.5, ref=np.where, dtype="float32", note="int tensor, float scalar"),
    ],
    "cast": [
        S(r(2, 3), attrs=dict(dtype=stepjit.float32), ref=lambda x, dtype: x.astype(np.float32),
          api=lambda T, x: x.float()),
        S(r(2, 3).astype(np.float32), attrs=dict(dtype=F64),
          ref=lambda x, dtype: x.astype(np.float64), api=lambda T, x: x.double()),
        S(r(2, 3) * 3, attrs=dict(dtype=stepjit.int64), ref=lambda x, dtype: x.astype(np.int64),
          api=lambda T, x: x.long(), grad=(), note="float -> int truncates"),
        S(ints(4), attrs=dict(dtype=stepjit.bool), ref=lambda x, dtype: x.astype(bool),
          api=lambda T, x: x.bool()),
    ],
    "copy": [S(r(2, 3), ref=np.copy, api=lambda T, x: x.clone())],
    # -- reductions ---------------------------------------------------------------
    "sum": [
        S(r(3, 4), attrs=dict(axis=None, keepdims=False), ref=lambda x, axis, keepdims: np.sum(x),
          api=lambda T, x: x.sum()),
        S(r(3, 4), attrs=dict(axis=(1,), keepdims=False),
          ref=lambda x, axis, keepdims: x.sum(1), api=lambda T, x: x.sum(1)),
        S(r(2, 3, 4), attrs=dict(axis=(0, 2), keepdims=True),
          ref=lambda x, axis, keepdims: x.sum((0, 2), keepdims=True),
          api=lambda T, x: x.sum((0, 2), keepdim=True)),
        S(r(), attrs=dict(axis=None, keepdims=False), ref=lambda x, axis, keepdims: x,
          api=lambda T, x: x.sum()),
        S(_bools(5), attrs=dict(axis=None, keepdims=False), dtype="int64",
          ref=lambda x, axis, keepdims: np.sum(x), api=lambda T, x: x.sum()),
        S(ints(5).astype(np.int32), attrs=dict(axis=None, keepdims=False), dtype="int64",
          ref=lambda x, axis, keepdims: np.sum(x), api=lambda T, x: x.sum()),
    ],
    "amax": [
        S(r(3, 4), attrs=dict(axis=(1,), keepdims=False),
          ref=lambda x, axis, keepdims: x.max(1), api=lambda T, x: x.amax(1)),
        S(r(3, 4), attrs=dict(axis=None, keepdims=False),
          ref=lambda x, axis, keepdims: x.max(), api=lambda T, x: x.amax()),
        S(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), attrs=dict(axis=(1,), keepdims=True),
          ref=lambda x, axis, keepdims: x.max(1, keepdims=True), note="tie",
          api=lambda T, x: x.amax(1, keepdim=True)),
    ],
    "amin": [
        S(r(3, 4), attrs=dict(axis=(0,), keepdims=True),
          ref=lambda x, axis, keepdims: x.min(0, keepdims=True),
          api=lambda T, x: x.amin(0, keepdim=True)),
        S(np.array([1.0, -3.0, -3.0]), attrs=dict(axis=None, keepdims=False),
          ref=lambda x, axis, keepdims: x.min(), note="tie", api=lambda T, x: x.amin()),
    ],
    "argmax": [S(r(3, 4), attrs=dict(axis=(1,), keepdims=False),
                 ref=lambda x, axis, keepdims: x.argmax(1), api=lambda T, x: x.argmax(1)),
               S(r(3, 4), attrs=dict(axis=(0,), keepdims=True),
                 ref=lambda x, axis, keepdims: x.argmax(0)[None],
                 api=lambda T, x: x.argmax(0, keepdim=True))],
    "argmin": [S(r(3, 4), attrs=dict(axis=(1,), keepdims=False),
                 ref=lambda x, axis, keepdims: x.argmin(1), api=lambda T, x: x.argmin(1))],
    "prod": [
        S(r(3, 4), attrs=dict(axis=(1,), keepdims=False),
          ref=lambda x, axis, keepdims: x.prod(1), api=lambda T, x: x.prod(1)),
        S(r(2, 3), attrs=dict(axis=None, keepdims=False),
          ref=lambda x, axis, keepdims: x.prod(), api=lambda T, x: x.prod()),
        S(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]]), attrs=dict(axis=(1,), keepdims=True),
          ref=lambda x, axis, keepdims: x.prod(1, keepdims=True), note="zeros",
          api=lambda T, x: x.prod(1, keepdim=True)),
        S(ints(4), attrs=dict(axis=None, keepdims=False), dtype="int64",
          ref=lambda x, axis, keepdims: np.prod(x), api=lambda T, x: x.prod()),
    ],
    # -- scans and sorts -----------------------------------------------------------
    "cumsum": [
        S(r(3, 4), attrs=dict(axis=1), ref=lambda x, axis: np.cumsum(x, axis),
          api=lambda T, x: x.cumsum(1)),
        S(r(2, 3, 2), attrs=dict(axis=0), ref=lambda x, axis: np.cumsum(x, axis),
          api=lambda T, x: x.cumsum(0)),
        S(_bools(5), attrs=dict(axis=0), ref=lambda x, axis: np.cumsum(x, axis), dtype="int64",
          api=lambda T, x: x.cumsum(0)),
    ],
    "cumprod": [
        S(r(3, 4), attrs=dict(axis=1), ref=lambda x, axis: np.cumprod(x, axis),
          api=lambda T, x: x.cumprod(1)),
        S(np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5]]), attrs=dict(axis=1),
          ref=lambda x, axis: np.cumprod(x, axis), note="zeros", api=lambda T, x: x.cumprod(1)),
        S(r(3, 2), attrs=dict(axis=0), ref=lambda x, axis: np.cumprod(x, axis),
          api=lambda T, x: x.cumprod(0)),
    ],
    "argsort": [
        S(r(3, 4), attrs=dict(axis=1, descending=False, stable=True),
          ref=lambda x, axis, descending, stable: np.argsort(x, axis, kind="stable"),
          api=lambda T, x: x.argsort(1)),
        S(np.array([[2.0, 1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 3.0]]),
          attrs=dict(axis=1, descending=True, stable=True), note="stable descending ties",
          ref=lambda x, axis, descending, stable: np.array([[0, 2, 1, 3], [3, 0, 1, 2]]),
          api=lambda T, x: x.argsort(dim=1, descending=True, stable=True)),
        S(np.array([1.0, np.nan, -1.0]), attrs=dict(axis=0, descending=False, stable=True),
          ref=lambda x, axis, descending, stable: np.array([2, 0, 1]), note="nan last",
          api=lambda T, x: x.argsort(dim=0, stable=True)),
    ],
    # -- linear algebra ------------------------------------------------------------
    "matmul": [
        S(r(2, 3), r(3, 4), ref=np.matmul, api=lambda T, x, y: x @ y),
        S(r(2, 2, 3), r(3, 4), ref=np.matmul, api=lambda T, x, y: x @ y, note="batched lhs"),
        S(r(2, 2, 3), r(2, 3, 4), ref=np.matmul, api=lambda T, x, y: T.bmm(x, y)),
        S(r(1, 2, 3), r(4, 3, 2), ref=np.matmul, api=lambda T, x, y: x @ y,
          note="broadcast batch"),
    ],
    "inv": [
        S(r(3, 3) + 4 * np.eye(3), ref=np.linalg.inv, api=lambda T, x: T.linalg.inv(x)),
        S(r(2, 2, 2) + 3 * np.eye(2), ref=np.linalg.inv, api=lambda T, x: T.inverse(x),
          note="batched"),
        S((r(3, 3) + 4 * np.eye(3)).astype(np.float32), ref=np.linalg.inv, note="float32",
          api=lambda T, x: x.inverse()),
    ],
    "det": [
        S(r(3, 3), ref=np.linalg.det, api=lambda T, x: T.det(x)),
        S(r(2, 2, 2), ref=np.linalg.det, api=lambda T, x: T.linalg.det(x), note="batched"),
        S(r(1, 1), ref=np.linalg.det, api=lambda T, x: x.det(), note="1 x 1"),
    ],
    # decompositions: symmetric inputs exactly symmetric (M + M^T), distinct eigenvalues
    "cholesky": [
        S(SPD3, ref=np.linalg.cholesky, api=lambda T, x: T.linalg.cholesky(x)),
        S(np.stack([SPD3, SPD3 + np.eye(3)]), ref=np.linalg.cholesky, note="batched",
          api=lambda T, x: T.linalg.cholesky(x)),
    ],
    "eigh_values": [
        S(SYM3, ref=np.linalg.eigvalsh, api=lambda T, x: T.linalg.eigvalsh(x)),
        S(SYM3.astype(np.float32), ref=np.linalg.eigvalsh, note="float32",
          api=lambda T, x: T.linalg.eigh(x).eigenvalues),
    ],
    "eigh_vectors": [
        S(SYM3, ref=lambda x: np.linalg.eigh(x)[1],
          api=lambda T, x: T.linalg.eigh(x).eigenvectors.abs()),
    ],
    "qr_q": [
        S(r(4, 3), attrs=dict(mode="reduced"), ref=lambda x, mode: np.linalg.qr(x, mode)[0],
          api=lambda T, x: T.linalg.qr(x).Q),
        S(r(2, 3, 3), attrs=dict(mode="complete"), ref=lambda x, mode: np.linalg.qr(x, mode)[0],
          note="batched square", api=lambda T, x: T.linalg.qr(x, mode="complete").Q),
    ],
    "qr_r": [
        S(r(4, 3), attrs=dict(mode="reduced"), ref=lambda x, mode: np.linalg.qr(x, mode)[1],
          api=lambda T, x: T.linalg.qr(x).R),
    ],
    "lu_factor": [
        S(r(3, 3), attrs=dict(check_errors=False), ref=lambda x, check_errors: _lu_ref(x)[0],
          api=lambda T, x: T.linalg.lu_factor(x).LU),
        S(r(2, 4, 3), attrs=dict(check_errors=True), grad=(), note="batched, tall",
          ref=lambda x, check_errors: np.stack([_lu_ref(m)[0] for m in x]),
          api=lambda T, x: T.linalg.lu_factor(x).LU),
    ],
    "lu_pivots": [
        S(r(2, 3, 4), attrs=dict(check_errors=False), note="batched, wide",
          ref=lambda x, check_errors: np.stack([_lu_ref(m)[1] for m in x]),
          api=lambda T, x: T.linalg.lu_factor(x).pivots),
    ],
    "svd_u": [
        S(r(4, 3), attrs=dict(full_matrices=False), api=lambda T, x: T.linalg.svd(x, False).U.abs(),
          ref=lambda x, full_matrices: np.linalg.svd(x, full_matrices)[0]),
    ],
    "svd_s": [
        S(r(4, 3), attrs=dict(full_matrices=False), api=lambda T, x: T.linalg.svdvals(x),
          ref=lambda x, full_matrices: np.linalg.svd(x, compute_uv=False)),
        S(r(2, 2, 3), attrs=dict(full_matrices=False), note="batched, wide",
          api=lambda T, x: T.linalg.svdvals(x),
          ref=lambda x, full_matrices: np.linalg.svd(x, compute_uv=False)),
    ],
    "svd_vh": [
        S(r(3, 4), attrs=dict(full_matrices=False), api=lambda T, x: T.linalg.svd(x, False).Vh.abs(),
          ref=lambda x, full_matrices: np.linalg.svd(x, full_matrices)[2]),
    ],
    # -- movement -----------------------------------------------------------------
    "reshape": [
        S(r(2, 6), attrs=dict(shape=(3, 4)), ref=lambda x, shape: x.reshape(shape),
          api=lambda T, x: x.reshape(3, 4)),
        S(r(2, 3), attrs=dict(shape=(6,)), ref=lambda x, shape: x.reshape(shape),
          api=lambda T, x: x.view(-1)),
        S(r(1), attrs=dict(shape=()), ref=lambda x, shape: x.reshape(shape),
          api=lambda T, x: x.reshape(())),
    ],
    "transpose": [
        S(r(2, 3), attrs=dict(perm=(1, 0)), ref=lambda x, perm: x.T, api=lambda T, x: x.t()),
        S(r(2, 3, 4), attrs=dict(perm=(2, 0, 1)), ref=lambda x, perm: x.transpose(perm),
          api=lambda T, x: x.permute(2, 0, 1)),
    ],
    "expand": [
        S(r(3, 1), attrs=dict(shape=(3, 4)), ref=lambda x, shape: np.broadcast_to(x, shape),
          api=lambda T, x: x.expand(3, 4)),
        S(r(3), attrs=dict(shape=(2, 3)), ref=lambda x, shape: np.broadcast_to(x, shape),
          api=lambda T, x: x.expand(2, 3)),
        S(r(), attrs=dict(shape=(2, 2)), ref=lambda x, shape: np.broadcast_to(x, shape),
          api=lambda T, x: x.expand(2, 2)),
        S(r(1, 1), attrs=dict(shape=(2, 1, 3)), ref=lambda x, shape: np.broadcast_to(x, shape),
          api=lambda T, x: x.expand(2, 1, 3)),
    ],
    "concat": [
        S(r(2, 3), r(1, 3), attrs=dict(axis=0), api=lambda T, x, y: T.cat([x, y]),
          ref=lambda *xs, axis: np.concatenate(xs, axis)),
        S(r(2, 3), r(2, 1), r(2, 2), attrs=dict(axis=1), api=lambda T, *xs: T.cat(xs, 1),
          ref=lambda *xs, axis: np.concatenate(xs, axis)),
    ],
    "as_strided": [
        S(r(4, 5), attrs=dict(size=(3, 4), stride=(5, 1), offset=2), ref=_np_as_strided,
          api=lambda T, x: x.as_strided((3, 4), (5, 1), 2)),
        S(r(12), attrs=dict(size=(4, 3), stride=(2, 1), offset=0), ref=_np_as_strided,
          api=lambda T, x: x.as_strided((4, 3), (2, 1)), note="overlapping windows"),
        S(r(3, 2), attrs=dict(size=(2, 0), stride=(1, 1), offset=6), ref=_np_as_strided,
          note="empty"),
    ],
    "fft": [
        S(r(3, 4, 2), attrs=dict(axes=(1,), inverse=False, scale=1.0), ref=_np_fft),
        S(r(2, 3, 2), attrs=dict(axes=(0, 1), inverse=True, scale=1 / 6), ref=_np_fft,
          note="inverse over two axes"),
        S(r(5, 2).astype(np.float32), attrs=dict(axes=(0,), inverse=False, scale=5 ** -0.5),
          ref=_np_fft, dtype="float32", note="float32"),
    ],
    # -- indexing ---------------------------------------------------------------
    "slice": [
        S(r(4, 5), attrs=dict(key=((1, 3, None),)), ref=_np_slice, api=lambda T, x: x[1:3]),
        S(r(4, 5), attrs=dict(key=(ALL, (None, None, 2))), ref=_np_slice,
          api=lambda T, x: x[:, ::2]),
        S(r(4, 5), attrs=dict(key=(2,)), ref=_np_slice, api=lambda T, x: x[2]),
        S(r(4, 5), attrs=dict(key=(-1, 3)), ref=_np_slice, api=lambda T, x: x[-1, 3]),
        S(r(4, 5), attrs=dict(key=(None, 1, (None, -1, None))), ref=_np_slice,
          api=lambda T, x: x[None, 1, :-1]),
    ],
    "slice_scatter": [
        S(r(4, 5), r(2, 5), attrs=dict(key=((1, 3, None),)), ref=_np_slice_scatter),
        S(r(4, 5), r(5), attrs=dict(key=((1, 3, None),)), ref=_np_slice_scatter,
          note="broadcast src"),
        S(r(4, 5), 0.5, attrs=dict(key=(ALL, 2)), ref=_np_slice_scatter, note="scalar src"),
        S(r(4, 5).astype(np.float32), r(4), attrs=dict(key=(ALL, 0)),
          ref=lambda b, s, key: _np_slice_scatter(b, s.astype(np.float32), key), dtype="float32",
          note="src cast to base dtype"),
    ],
    "dynamic_slice": [
        S(r(6, 3), np.array(2), attrs=dict(axis=0, size=3, step=1), ref=_np_dynamic_slice,
          api=lambda T, x, s: x[int(s):int(s) + 3]),
        S(r(4, 7), np.array(-5), attrs=dict(axis=1, size=2, step=2), ref=_np_dynamic_slice,
          api=lambda T, x, s: x[:, int(s):int(s) + 3:2], note="negative start and a step"),
        S(r(6, 3), np.array(5), attrs=dict(axis=0, size=3, step=1), ref=_np_dynamic_slice,
          note="start clamped so the window fits"),
    ],
    "dynamic_update_slice": [
        S(r(6, 3), r(2, 3), np.array(1), attrs=dict(axis=0, step=1),
          ref=_np_dynamic_update_slice),
        S(r(4, 7), r(4, 2), np.array(-4), attrs=dict(axis=1, step=3),
          ref=_np_dynamic_update_slice, note="negative start and a step"),
        S(r(5, 2).astype(np.float32), r(2, 2), np.array(9), attrs=dict(axis=0, step=1),
          ref=lambda b, u, s, axis, step: _np_dynamic_update_slice(b, u.astype(np.float32), s,
                                                                   axis, step),
          dtype="float32", note="update cast to base dtype, start clamped"),
    ],
    "gather": [
        S(r(4, 3), np.array([2, 0, 2]), attrs=dict(key=("T",)), ref=lambda x, i, key: x[i],
          api=lambda T, x, i: x[i], note="index tensor, repeated"),
        S(r(4, 3), np.array([[True, False, True]] * 2 + [[False] * 3] * 2),
          attrs=dict(key=("T",)), ref=lambda x, m, key: x[m], api=lambda T, x, m: x[m],
          note="bool mask"),
        S(r(4, 3), np.array([True, False, True, True]), attrs=dict(key=("T", (0, 2, None))),
          ref=lambda x, m, key: x[m, 0:2], api=lambda T, x, m: x[m, 0:2], note="row mask"),
        S(r(4, 3), np.array([0, 3]), np.array([2, 1]), attrs=dict(key=("T", "T")),
          ref=lambda x, i, j, key: x[i, j], api=lambda T, x, i, j: x[i, j]),
        S(r(4, 3), np.array([1, 1]), attrs=dict(key=(ALL, "T")), ref=lambda x, i, key: x[:, i],
          api=lambda T, x, i: x[:, i]),
    ],
    "index_put": [
        S(r(4, 3), r(2, 3), np.array([3, 1]), attrs=dict(key=("T",), accumulate=False),
          ref=_np_index_put),
        S(r(4, 3), r(3), np.array([0, 0, 2]), attrs=dict(key=("T",), accumulate=True),
          ref=_np_index_put, note="accumulate with repeats"),
        S(r(4, 3), 0.0, r(4, 3) > 0, attrs=dict(key=("T",), accumulate=False),
          ref=_np_index_put, note="mask fill"),
        S(r(4, 3), r(2), np.array([0, 3]), np.array([2, 1]),
          attrs=dict(key=("T", "T"), accumulate=False), ref=_np_index_put),
    ],
    # -- creation -------------------------------------------------------------------
    "full": [S(attrs=dict(shape=(2, 3), value=1.5, dtype=F64),
               ref=lambda shape, value, dtype: np.full(shape, value)),
             S(attrs=dict(shape=(), value=3, dtype=stepjit.int64),
               ref=lambda shape, value, dtype: np.full(shape, value), dtype="int64")],
    "check_range": [S(np.array([[0.0, 0.5], [1.0, 0.25]]),
                      attrs=dict(axis=None, keepdims=False, lo=0.0, hi=1.0, op="bce"),
                      ref=lambda x, axis, keepdims, lo, hi, op: np.array(0.0),
                      note="in range: a zero flag")],
    "numel": [S(attrs=dict(shape=(5, 2), axis=None, correction=0, dtype=F64),
                ref=lambda shape, axis, correction, dtype: np.array(10.0)),
              S(attrs=dict(shape=(5, 3, 2), axis=(0, 2), correction=1, dtype=stepjit.int64),
                ref=lambda shape, axis, correction, dtype: np.array(9), dtype="int64"),
              S(attrs=dict(shape=(0, 3), axis=(0,), correction=1, dtype=F64),
                ref=lambda shape, axis, correction, dtype: np.array(0.0), note="never below 0")],
    "arange": [S(attrs=dict(start=0, stop=5, step=1, dtype=stepjit.int64),
                 ref=lambda start, stop, step, dtype: np.arange(start, stop, step)),
               S(attrs=dict(start=1.0, stop=2.0, step=0.25, dtype=stepjit.float32),
                 ref=lambda start, stop, step, dtype: np.arange(start, stop, step))],
}

# Primitives with no gradient at all. Listed by name so that a new primitive
# cannot skip the gradient check by forgetting its VJP.
NON_DIFFERENTIABLE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
                      "logical_or", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                      "left_shift", "right_shift", "gcd", "argmax", "argmin", "full", "arange", "argsort", "numel",
                      "check_range", "lu_pivots"}


# -- random: references from the per-element scalar definitions (codegen's contract) ------------
def _rng_ref(scalar):
    from stepjit.ir.primitives import random as R

    def ref(state, shape, **attrs):
        seed, offset = int(state[0]), int(state[1])
        n = int(np.prod(shape))
        return np.array([scalar(R, seed, offset + i, **attrs) for i in range(n)]).reshape(shape)
    return ref


_STATE = np.array([20240607, 1000], dtype=np.int64)
_BIG_STATE = np.array([-3, (1 << 63) - 2], dtype=np.int64)  # negative seed; offset wraps
SAMPLES.update({
    "uniform": [S(_STATE, attrs=dict(shape=(3, 4), dtype=F64),
                  ref=_rng_ref(lambda R, s, c, dtype: R.uniform_scalar(s, c, dtype))),
                S(_BIG_STATE, attrs=dict(shape=(5,), dtype=stepjit.float32), dtype="float32",
                  ref=_rng_ref(lambda R, s, c, dtype: R.uniform_scalar(s, c, dtype)))],
    "normal": [S(_STATE, attrs=dict(shape=(2, 5), dtype=F64),
                 ref=_rng_ref(lambda R, s, c, dtype: R.normal_scalar(s, c, dtype))),
               S(_BIG_STATE, attrs=dict(shape=(4,), dtype=stepjit.float32), dtype="float32",
                 ref=_rng_ref(lambda R, s, c, dtype: R.normal_scalar(s, c, dtype)))],
    "randint": [S(_STATE, attrs=dict(shape=(6,), low=-3, high=4, dtype=stepjit.int64),
                  dtype="int64",
                  ref=_rng_ref(lambda R, s, c, low, high, dtype: R.randint_scalar(s, c, low, high)))],
    "randperm": [S(_STATE, attrs=dict(n=7, dtype=stepjit.int64), dtype="int64",
                   ref=lambda state, n, dtype: np.argsort(
                       _rng_ref(lambda R, s, c: R.bits_scalar(s, c))(state, (n,)).astype(np.uint64),
                       kind="stable"))],
    "rng_advance": [S(_STATE, attrs=dict(count=12), dtype="int64",
                      ref=lambda state, count: np.array([state[0], state[1] + count])),
                    S(_BIG_STATE, attrs=dict(count=5), dtype="int64", note="offset wraps",
                      ref=lambda state, count: np.array([-3, -(1 << 63) + 3]))],
})
NON_DIFFERENTIABLE |= {"uniform", "normal", "randint", "randperm", "rng_advance"}


def _multinomial_ref(state, probs, num_samples, replacement):
    """Per sample from the scalar uniform: a linear scan of the cumulative weights (with
    replacement), or the order of the exponential race -log(1-u)/p (without)."""
    from stepjit.ir.primitives import random as R
    seed, offset = int(state[0]), int(state[1])
    rows = np.atleast_2d(probs).astype(np.float64)
    out = []
    for b, row in enumerate(rows):
        if replacement:
            u = [R.uniform_scalar(seed, offset + b * num_samples + j, F64)
                 for j in range(num_samples)]
            cdf = np.cumsum(row)
            out.append([min(int((cdf <= x * cdf[-1]).sum()), len(row) - 1) for x in u])
        else:
            keys = [-math.log1p(-R.uniform_scalar(seed, offset + b * len(row) + k, F64)) / p
                    if p > 0 else math.inf for k, p in enumerate(row)]
            out.append(sorted(range(len(row)), key=lambda k: (keys[k], k))[:num_samples])
    return np.array(out).reshape(probs.shape[:-1] + (num_samples,))


_WEIGHTS = np.array([[0.5, 0.0, 2.0, 1.0, 0.25], [1.0, 1.0, 1.0, 1.0, 1.0]])
SAMPLES["multinomial"] = [
    S(_STATE, _WEIGHTS, attrs=dict(num_samples=7, replacement=True), dtype="int64",
      ref=_multinomial_ref, grad=()),
    S(_STATE, _WEIGHTS[0].astype(np.float32), attrs=dict(num_samples=4, replacement=False),
      dtype="int64", ref=_multinomial_ref, grad=(), note="no replacement"),
]
NON_DIFFERENTIABLE |= {"multinomial"}

# Collectives run on a group of one process here (no MPI: tests/conftest.py gives every test
# outside tests/distributed one): a reduction over one rank is the identity; tests/distributed
# runs them on two.
SAMPLES.update({
    "all_reduce": [S(r(2, 3), attrs=dict(op="sum"), ref=lambda x, op: x),
                   S(r(4), attrs=dict(op="avg"), ref=lambda x, op: x),
                   S(np.arange(4), attrs=dict(op="max"), dtype="int64", ref=lambda x, op: x)],
})

PRIM_CASES = [(name, i) for name in sorted(SAMPLES) for i in range(len(SAMPLES[name]))]


def _case_id(case):
    name, i = case
    note = SAMPLES[name][i].note
    return f"{name}-{i}" + (f"-{note.replace(' ', '_')}" if note else "")


def run_prim(name, sample, requires_grad=()):
    ts = sample.tensors(requires_grad)
    return apply(PRIMITIVES[name], *ts, **sample.attrs), ts


# -- the registry is complete -------------------------------------------------------
def test_every_primitive_has_rules_samples_and_gradients():
    problems = []
    for name, prim in sorted(PRIMITIVES.items()):
        if prim.impl is None:
            problems.append(f"{name}: no impl")
        if prim.shape_rule is None:
            problems.append(f"{name}: no shape rule")
        if prim.kind == "elementwise" and not prim.expr:
            problems.append(f"{name}: elementwise without a scalar expression")
        if not SAMPLES.get(name):
            problems.append(f"{name}: no sample in tests/ir/test_registry.py SAMPLES")
        if prim.differentiable == (name in NON_DIFFERENTIABLE):
            problems.append(f"{name}: differentiable={prim.differentiable} but "
                            f"{'' if name in NON_DIFFERENTIABLE else 'not '}in NON_DIFFERENTIABLE")
        if prim.differentiable and not any(s.grad for s in SAMPLES.get(name, ())):
            problems.append(f"{name}: differentiable but no sample is gradient-checked")
        attrs = SAMPLES[name][0].attrs if SAMPLES.get(name) else {}
        if prim.differentiable and not isinstance(prim.grad_name(attrs), str):
            problems.append(f"{name}: grad_name is not a string")
    for name in set(SAMPLES) - set(PRIMITIVES):
        problems.append(f"{name}: sample for an unknown primitive")
    for name in NON_DIFFERENTIABLE - set(PRIMITIVES):
        problems.append(f"{name}: NON_DIFFERENTIABLE names an unknown primitive")
    assert not problems, "\n".join(problems)


DECLARE = ("declare it in the primitive's Primitive(...) entry (stepjit/ir/primitives/); "
           "docs/architecture.md, 'Adding a primitive', lists every field")


def _backend_lowerings():
    """backend -> the lowerings its one lowering table runs (an op group by its primitive's
    `lowering`; "loop" also as fused loop kernels)."""
    from stepjit.programs import cpu, cuda
    return {"cpu": set(cpu.OP_LOWERING), "cuda": set(cuda.OP_LOWERING)}


def _shares_memory(out, ts):
    arrays = [t._data for t in ts if isinstance(t, stepjit.Tensor) and t._data.size]
    return out._data.size > 0 and any(np.shares_memory(out._data, a) for a in arrays)


def test_every_primitive_declares_what_the_passes_and_backends_read():
    """The facts passes and backends read are fields of the entry, never a list of names
    elsewhere: a new primitive that forgets one is named here, with what to declare."""
    from stepjit.ir.registry import LOWERINGS, REDUCES
    tables = _backend_lowerings()
    problems = []
    for name, prim in sorted(PRIMITIVES.items()):
        where = f"primitive {name!r} (kind {prim.kind!r})"
        if prim.lowering not in LOWERINGS:
            problems.append(f"{where}: lowering={prim.lowering!r} is none of {LOWERINGS}")
        for backend, table in tables.items():
            if prim.lowering not in table:
                problems.append(f"{where}: the {backend} backend has no lowering {prim.lowering!r}")
        if prim.kind == "elementwise" and not prim.expr:
            problems.append(f"{where}: an elementwise primitive needs expr='...', the scalar "
                            "expression its fused loops compute ({0}, {1} for operands)")
        if prim.reduce is not None and (prim.kind != "reduction" or prim.reduce not in REDUCES):
            problems.append(f"{where}: reduce={prim.reduce!r} is for reductions, one of {REDUCES}")
        if prim.exact and prim.kind != "elementwise":
            problems.append(f"{where}: exact= is for elementwise primitives")
        if prim.native_first is not None and prim.native is None:
            problems.append(f"{where}: native_first= says when to run its native form: "
                            "declare native= too")
        if prim.native is not None and prim.lowering in ("matmul", "fill", "loop"):
            problems.append(f"{where}: native= is for op groups; lowering {prim.lowering!r} "
                            "has its own native code")
        for sample in SAMPLES.get(name, ())[:1]:
            out, ts = run_prim(name, sample)
            if prim.view and not _shares_memory(out, ts):
                problems.append(f"{where}: view=True but its impl copies: a view must return "
                                "a view of its first input")
            if not prim.view and _shares_memory(out, ts):
                problems.append(f"{where}: its impl returns a view of an input: declare "
                                "view=True (eager aliasing, and a free view when compiled)")
    assert not problems, "\n".join(problems) + "\n-> " + DECLARE


def test_a_view_that_can_copy_says_so():
    """The tracer checks writes through a `may_copy` view on real layouts; a view primitive
    whose impl copies a column-major input without declaring it would escape that check.
    Every sample's first operand is also given in Fortran order."""
    problems, copied = [], set()
    for name, prim in sorted(PRIMITIVES.items()):
        for sample in SAMPLES.get(name, ()) if prim.view else ():
            x = sample.args[0]
            if not isinstance(x, np.ndarray) or x.ndim < 2:
                continue
            xf = np.asfortranarray(x)
            out = prim.impl(xf, *sample.args[1:], **sample.attrs)
            if out.size and not np.shares_memory(out, xf):
                copied.add(name)
    for name in sorted(copied - {n for n, p in PRIMITIVES.items() if p.may_copy}):
        problems.append(f"{name}: its impl copies a Fortran-ordered input: declare may_copy=True")
    for name in sorted({n for n, p in PRIMITIVES.items() if p.may_copy} - copied):
        problems.append(f"{name}: may_copy=True, but no sample copies: add one that does")
    assert not problems, "\n".join(problems)


IDENTITY_OPERANDS = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 3e38, 1e-45])


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.identity))
def test_a_declared_identity_gives_the_other_operand_bit_for_bit(name):
    """`identity` lets simplification drop the op (x * 1 -> x): the impl must agree, on every
    float dtype and on the edge values (signed zeros, infinities, NaN, subnormals)."""
    prim = PRIMITIVES[name]
    assert len(prim.inputs) == 2 and prim.kind == "elementwise", name
    for i, value in prim.identity:
        for dtype in (np.float32, np.float64):
            x = IDENTITY_OPERANDS.astype(dtype)
            e = np.full_like(x, value)
            out = prim.impl(*((x, e) if i == 1 else (e, x)))
            assert out.dtype == dtype and out.tobytes() == x.tobytes(), (name, i, value, dtype)


# -- eager values vs NumPy, and vs the shape rule ---------------------------------------
@pytest.mark.parametrize("case", PRIM_CASES, ids=_case_id)
def test_eager_matches_numpy_and_shape_rule(case):
    name, i = case
    sample = SAMPLES[name][i]
    out, ts = run_prim(name, sample)
    aval = PRIMITIVES[name].shape_rule(*[aval_of(t) for t in ts], **sample.attrs)
    if aval.shape is None:  # a bool mask: the result's length depends on the mask's values
        assert any(isinstance(a, np.ndarray) and a.dtype == np.bool_ for a in sample.args[1:])
    else:
        assert tuple(out.shape) == tuple(aval.shape)
    assert out.dtype is aval.dtype
    if sample.dtype is not None:
        assert out.dtype.name == sample.dtype
    expected = np.asarray(sample.ref(*sample.args, **sample.attrs))
    assert out.shape == expected.shape
    got = out.numpy()
    if got.dtype.kind == "f":
        tol = 1e-6 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, expected.astype(got.dtype))
    # the inputs are left unchanged
    for a, t in zip(sample.args, ts):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(t.numpy(), a)


# -- gradients vs central finite differences ------------------------------------------
def numeric_vjp(f, args, i, cotangent, eps):
    """d<cotangent, f(args)>/d args[i] by central differences, in float64."""
    base = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    x = base[i]
    flat = x.reshape(-1)
    out = np.zeros(flat.size)
    for m in range(flat.size):
        orig = flat[m]
        flat[m] = orig + eps
        plus = np.sum(f(base).astype(np.float64) * cotangent)
        flat[m] = orig - eps
        minus = np.sum(f(base).astype(np.float64) * cotangent)
        flat[m] = orig
        out[m] = (plus - minus) / (2 * eps)
    return out.reshape(x.shape)


def check_grads(fn, args, grad_idx):
    """Autograd's VJP of fn(*tensors) vs finite differences, for each index in grad_idx.

    Also checks that every gradient has its input's shape and dtype (the engine
    sums broadcast gradients back and casts them)."""
    def forward(arrays, requires=()):
        ts = []
        for j, a in enumerate(arrays):
            if isinstance(a, np.ndarray):
                t = stepjit.tensor(a, dtype=as_dtype(a.dtype))
                if j in requires:
                    t.requires_grad_()
                ts.append(t)
            else:
                ts.append(a)
        return fn(*ts), ts

    out, ts = forward(args, grad_idx)
    assert out.requires_grad
    cot = RNG.standard_normal(tuple(out.shape))
    grads = autograd.grad(out, [ts[j] for j in grad_idx],
                          stepjit.tensor(cot, dtype=out.dtype), allow_unused=True)
    low = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args) or \
        out.dtype is stepjit.float32
    eps, tol = (1e-3, 1e-2) if low else (1e-6, 1e-6)
    cot_cast = cot.astype(out.dtype.np).astype(np.float64)

    def value(arrays):
        with stepjit.no_grad():
            return forward(arrays)[0].numpy()

    for j, g in zip(grad_idx, grads):
        x = args[j]
        numeric = numeric_vjp(value, args, j, cot_cast, eps)
        if g is None:
            np.testing.assert_allclose(numeric, 0, atol=tol)
            continue
        assert tuple(g.shape) == x.shape, f"grad of input {j} has shape {g.shape}"
        assert g.dtype.np == x.dtype, f"grad of input {j} has dtype {g.dtype}"
        np.testing.assert_allclose(g.numpy(), numeric, rtol=tol, atol=tol,
                                   err_msg=f"gradient of input {j}")


GRAD_CASES = [c for c in PRIM_CASES if SAMPLES[c[0]][c[1]].grad
              and PRIMITIVES[c[0]].differentiable]


@pytest.mark.parametrize("case", GRAD_CASES, ids=_case_id)
def test_vjp_matches_finite_differences(case):
    name, i = case
    sample = SAMPLES[name][i]
    prim = PRIMITIVES[name]
    check_grads(lambda *ts: apply(prim, *ts, **sample.attrs), sample.args, sample.grad)


def test_stepjit_gradcheck_agrees_on_a_primitive():
    x = stepjit.tensor(r(3), dtype=F64, requires_grad=True)
    y = stepjit.tensor(r(3), dtype=F64, requires_grad=True)
    assert autograd.gradcheck(lambda a, b: a * b.sin(), (x, y))


# -- composites: front-end functions built from primitives ----------------------------------
def C(fn, *args, ref, grad=None, note=""):
    """A composite sample: fn(T, *tensors) runs on stepjit (and on torch in the oracle)."""
    return Sample(args, ref, grad=grad, api=fn, note=note)


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _np_logsumexp(x, axis, keepdims=False):
    m = x.max(axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


def _np_setitem(x, key, v):
    out = x.copy()
    out[key] = v
    return out


_MASK = np.array([[True, False, True], [False, False, True]])

COMPOSITES: dict[str, list[Sample]] = {
    "mean": [C(lambda T, x: x.mean(), r(3, 4), ref=np.mean),
             C(lambda T, x: x.mean(1), r(3, 4), ref=lambda x: x.mean(1)),
             C(lambda T, x: x.mean((0, 2), keepdim=True), r(2, 3, 4),
               ref=lambda x: x.mean((0, 2), keepdims=True))],
    "var": [C(lambda T, x: x.var(), r(3, 4), ref=lambda x: x.var(ddof=1)),
            C(lambda T, x: x.var(1, unbiased=False), r(3, 4), ref=lambda x: x.var(1)),
            C(lambda T, x: x.var(0, keepdim=True), r(3, 4),
              ref=lambda x: x.var(0, ddof=1, keepdims=True))],
    "std": [C(lambda T, x: x.std(), r(3, 4), ref=lambda x: x.std(ddof=1)),
            C(lambda T, x: x.std(1), r(3, 4), ref=lambda x: x.std(1, ddof=1))],
    "softmax": [C(lambda T, x: T.softmax(x, dim=1), r(3, 4), ref=lambda x: _np_softmax(x, 1)),
                C(lambda T, x: x.softmax(0), r(3, 4), ref=lambda x: _np_softmax(x, 0)),
                C(lambda T, x: T.softmax(x, -1), np.array([[1000.0, 0.0, -1000.0]]),
                  ref=lambda x: _np_softmax(x, -1), note="large logits")],
    "log_softmax": [C(lambda T, x: T.log_softmax(x, dim=1), r(3, 4),
                      ref=lambda x: np.log(_np_softmax(x, 1))),
                    C(lambda T, x: x.log_softmax(-1), np.array([[1000.0, 0.0, 1.0]]),
                      ref=lambda x: x - _np_logsumexp(x, -1, True), note="large logits")],
    "logsumexp": [C(lambda T, x: T.logsumexp(x, 1), r(3, 4), ref=lambda x: _np_logsumexp(x, 1)),
                  C(lambda T, x: x.logsumexp(0, keepdim=True), r(3, 4),
                    ref=lambda x: _np_logsumexp(x, 0, True))],
    "max_dim": [C(lambda T, x: x.max(1)[0], r(3, 4), ref=lambda x: x.max(1)),
                C(lambda T, x: x.max(0, keepdim=True).values, r(3, 4),
                  ref=lambda x: x.max(0, keepdims=True)),
                C(lambda T, x: x.min(1).values, r(3, 4), ref=lambda x: x.min(1)),
                C(lambda T, x: x.max(), r(3, 4), ref=lambda x: x.max()),
                C(lambda T, x: x.max(1)[1], r(3, 4), ref=lambda x: x.argmax(1), grad=())],
    "stack": [C(lambda T, x, y: T.stack([x, y]), r(2, 3), r(2, 3),
                ref=lambda x, y: np.stack([x, y])),
              C(lambda T, x, y: T.stack([x, y], dim=-1), r(2, 3), r(2, 3),
                ref=lambda x, y: np.stack([x, y], -1))],
    "cat": [C(lambda T, x, y: T.cat([x, y], 1), r(2, 3), r(2, 2),
              ref=lambda x, y: np.concatenate([x, y], 1))],
    "matmul_1d": [C(lambda T, x, y: x @ y, r(3), r(3), ref=np.matmul, note="dot"),
                  C(lambda T, x, y: x @ y, r(3), r(3, 4), ref=np.matmul, note="vec-mat"),
                  C(lambda T, x, y: x @ y, r(2, 3), r(3), ref=np.matmul, note="mat-vec"),
                  C(lambda T, x, y: x @ y, r(2, 2, 3), r(3), ref=np.matmul, note="batch-vec"),
                  C(lambda T, x, y: T.mm(x, y), r(2, 3), r(3, 2), ref=np.matmul)],
    "getitem": [C(lambda T, x: x[1:, ::2], r(3, 4), ref=lambda x: x[1:, ::2]),
                C(lambda T, x: x[-1], r(3, 4), ref=lambda x: x[-1]),
                C(lambda T, x: x[..., 1], r(2, 3, 4), ref=lambda x: x[..., 1]),
                C(lambda T, x: x[None, :, 0], r(3, 4), ref=lambda x: x[None, :, 0]),
                C(lambda T, x, i: x[i], r(3, 4), np.array([2, 0, 2]),
                  ref=lambda x, i: x[i], note="index tensor"),
                C(lambda T, x, m: x[m], r(2, 3), _MASK, ref=lambda x, m: x[m], note="bool mask"),
                C(lambda T, x, m: x[m[0]], r(3, 4), np.array([[True, False, True]]),
                  ref=lambda x, m: x[m[0]], note="row mask"),
                C(lambda T, x, i: x[1, i], r(3, 4), np.array([3, 0]),
                  ref=lambda x, i: x[1, i], note="int and index tensor"),
                C(lambda T, x: x[[0, 2]], r(3, 4), ref=lambda x: x[[0, 2]], note="list")],
    "setitem": [
        C(lambda T, x, v: _set(x * 1, (slice(0, 2),), v), r(3, 4), r(4),
          ref=lambda x, v: _np_setitem(x, slice(0, 2), v), note="slice, broadcast"),
        C(lambda T, x, v: _set(x * 1, (1, 2), v), r(3, 4), r(),
          ref=lambda x, v: _np_setitem(x, (1, 2), v), note="element"),
        C(lambda T, x, m: _set(x * 1, m > 0, 0.0), r(2, 3), r(2, 3),
          ref=lambda x, m: _np_setitem(x, m > 0, 0.0), grad=(0,), note="mask fill"),
        C(lambda T, x, v, i: _set(x * 1, i, v), r(4, 3), r(2, 3), np.array([3, 0]),
          ref=lambda x, v, i: _np_setitem(x, i, v), note="index tensor"),
    ],
    "clamp_tensor": [C(lambda T, x, lo: T.clamp(x, min=lo), r(2, 3), r(3),
                       ref=lambda x, lo: np.maximum(x, lo))],
    "losses": [C(lambda T, x, y: ((x - y) ** 2).mean(), r(3, 2), r(3, 2),
                 ref=lambda x, y: ((x - y) ** 2).mean(), note="mse")],
}


def _set(t, key, value):
    t[key] = value
    return t


COMP_CASES = [(name, i) for name in sorted(COMPOSITES) for i in range(len(COMPOSITES[name]))]


def _comp_id(case):
    name, i = case
    note = COMPOSITES[name][i].note
    return f"{name}-{i}" + (f"-{note.replace(' ', '_')}" if note else "")


@pytest.mark.parametrize("case", COMP_CASES, ids=_comp_id)
def test_composite_matches_numpy(case):
    name, i = case
    sample = COMPOSITES[name][i]
    ts = sample.tensors()
    out = sample.api(stepjit, *ts)
    expected = np.asarray(sample.ref(*sample.args))
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", [c for c in COMP_CASES if COMPOSITES[c[0]][c[1]].grad],
                         ids=_comp_id)
def test_composite_gradients(case):
    name, i = case
    sample = COMPOSITES[name][i]
    check_grads(lambda *ts: sample.api(stepjit, *ts), sample.args, sample.grad)


# -- dtype promotion (PyTorch's rules, not NumPy's) ------------------------------------------
def _t(a, dtype=None):
    return stepjit.tensor(a, dtype=dtype)


PROMOTION = [
    ("int tensor + python float", lambda: _t([1, 2]) + 2.5, "float32"),
    ("int tensor + python int", lambda: _t([1, 2]) + 2, "int64"),
    ("int32 tensor + python int", lambda: _t([1, 2], stepjit.int32) + 2, "int32"),
    ("f32 tensor + f64 0-dim", lambda: _t([1.0, 2.0]) + _t(2.0, F64), "float32"),
    ("f32 tensor + python float", lambda: _t([1.0]) * 1e-3, "float32"),
    ("int tensor + f64 0-dim", lambda: _t([1, 2]) + _t(2.0, F64), "float64"),
    ("f32 0-dim + f64 0-dim", lambda: _t(1.0) + _t(2.0, F64), "float64"),
    ("f32 tensor + f64 tensor", lambda: _t([1.0]) + _t([2.0], F64), "float64"),
    ("int / int", lambda: _t([3, 4]) / _t([2, 2]), "float32"),
    ("int / python int", lambda: _t([3, 4]) / 2, "float32"),
    ("bool + bool", lambda: _t([True, False]) + _t([True, True]), "bool"),
    ("bool + python int", lambda: _t([True, False]) + 1, "int64"),
    ("bool * python float", lambda: _t([True, False]) * 1.5, "float32"),
    ("int32 + int64 tensor", lambda: _t([1], stepjit.int32) + _t([1]), "int64"),
    ("int64 tensor + int32 0-dim", lambda: _t([1]) + _t(1, stepjit.int32), "int64"),
    ("int32 tensor + int64 0-dim", lambda: _t([1], stepjit.int32) + _t(1), "int32"),
    ("python float - int tensor", lambda: 1.5 - _t([1, 2]), "float32"),
    ("exp of int", lambda: _t([1, 2]).exp(), "float32"),
    ("sum of bool", lambda: _t([True, True]).sum(), "int64"),
    ("sum of int32", lambda: _t([1], stepjit.int32).sum(), "int64"),
    ("int tensor ** python float", lambda: _t([1, 4]) ** 0.5, "float32"),
    ("where(int, float scalar)", lambda: stepjit.where(_t([True, False]), _t([1, 2]), 0.5),
     "float32"),
    ("comparison", lambda: _t([1, 2]) < 1.5, "bool"),
]


@pytest.mark.parametrize("name,fn,dtype", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_promotion(name, fn, dtype):
    assert fn().dtype.name == dtype


def test_promotion_values():
    np.testing.assert_allclose((_t([1, 2]) + 2.5).numpy(), [3.5, 4.5])
    assert (_t([1, 2]) / _t([2, 2])).tolist() == [0.5, 1.0]
    assert (_t([True, False]) + _t([True, True])).tolist() == [True, True]
    assert (_t([True, False]) + 1).tolist() == [2, 1]


@pytest.mark.parametrize("shape,to", [((), (2, 2)), ((1, 1), (2, 1, 3)), ((3, 1), (2, 3, 4)),
                                      ((3,), (2, 3))])
def test_expand_impl_is_a_read_only_view_like_broadcast_to(shape, to):
    # expand's impl builds the view itself (one-element inputs without per-axis work); it must
    # read as np.broadcast_to's view does: same values, x's memory, not writable.
    x = np.arange(1, 1 + int(np.prod(shape)), dtype=np.float32).reshape(shape)
    out = PRIMITIVES["expand"].impl(x, shape=to)
    want = np.broadcast_to(x, to)
    assert out.shape == want.shape and out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)
    assert np.shares_memory(out, x) and not out.flags.writeable


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_matmul_impl_of_two_matrices_is_np_matmul_bit_for_bit(dtype):
    # matmul's impl takes ndarray.dot for two matrices: the same BLAS call as np.matmul for
    # operands in C or Fortran order (transposed views: the backward's x.T @ g), so the same bits.
    # (Operands of two dtypes never reach the impl: the shape rule refuses them, as PyTorch does.)
    dtypes = (dtype, dtype)
    rng = np.random.default_rng(3)
    impl = PRIMITIVES["matmul"].impl
    # (the last two: products over linalg._DOT_MAX elements, which take np.matmul itself)
    for m, k, p in [(4, 4, 4), (1, 5, 3), (3, 5, 1), (1, 1, 1), (64, 100, 10), (7, 1, 9), (0, 3, 2),
                    (64, 5, 100), (100, 3, 64)]:
        for ta in (False, True):
            for tb in (False, True):
                a = (rng.standard_normal((k, m) if ta else (m, k)) * 3).astype(dtypes[0])
                b = (rng.standard_normal((p, k) if tb else (k, p)) * 3).astype(dtypes[1])
                a, b = (a.T if ta else a), (b.T if tb else b)
                got, want = impl(a, b), np.matmul(a, b)
                assert got.dtype == want.dtype and got.shape == want.shape
                assert got.tobytes() == want.tobytes(), (m, k, p, ta, tb)
    a = rng.standard_normal((3, 5, 8)).astype(np.float32)[:, :, ::2]   # a strided matrix (its
    b = rng.standard_normal((4, 2)).astype(np.float32)                  # layout: copied for BLAS)
    np.testing.assert_allclose(impl(a[0], b), np.matmul(a[0], b), rtol=1e-6)
    batched = impl(a, b)   # batches: np.matmul itself
    assert batched.tobytes() == np.matmul(a, b).tobytes()
