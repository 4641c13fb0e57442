"""Transcendentals as plain arithmetic, so that generated CPU loops vectorize.

Numba lowers `math.tanh`/`math.exp`/`math.log` to LLVM intrinsics; the loop vectorizer
widens them (`llvm.tanh.v16f32`), and with no vector math library the backend splits them
back into one libm call per lane. A float32 tanh loop ran at 15.7 ns per element against
NumPy's 0.37. The functions here are written, as XLA's CPU backend and Eigen write theirs,
as range reduction plus a polynomial or rational approximation, with
selects (`_select`, an LLVM select) instead of branches, FMAs and IEEE bit tricks through
small intrinsics, so the loop body stays straight-line SIMD code.

Error bounds, in ulps against NumPy's float64 function (rounded to float32 for float32
results): measured on every 97th float32 bit pattern (44 million inputs over the whole
range; exp also on every 7th) and, for float64, on 8 million inputs spread over the whole
range, plus the edges listed in tests/codegen/test_vmath.py, which checks them:

    function   float32   float64   algorithm
    exp        1         2         Cephes: x = n ln2 + r, polynomial (f32) / Pade (f64) in r
    log        1         1         Cephes: frexp, polynomial (f32) / rational (f64) in m - 1
    tanh       2         2         f32: em / (em + 2), em = expm1(2|x|) by exp's reduction;
                                   f64: Cephes rational below 0.625, 1 - 2/(exp(2|x|) + 1) above
    sigmoid    2         2         (1 or e) / (1 + e) with e = exp(-|x|): nothing overflows
    log1p      1         2         f32: the f64 function, rounded; f64: log(u) * x / (u - 1),
                                   u = 1 + x (Goldberg/Kahan)
    expm1      1         2         f32: the f64 function, rounded; f64: (u - 1) * x / log(u),
                                   u = exp(x) (Kahan)
    pow        1         libm      f32: exp(y log x) in f64, rounded, IEEE special cases;
                                   f64 keeps `**` (a scalar libm call): exp(y log x) in
                                   double loses up to ~700 ulps without a double-double log
    erf        1         libm      f32: x P(x^2) below 1, 1 - exp(-x^2) Q(1/|x|) to 4, in f64,
                                   rounded; f64 keeps math.erf. Against math.erf (NumPy has
                                   none): every 97th bit pattern and [-5, 5] densely

`BOUND_ULPS` holds the bounds the tests enforce. inf, nan, -0.0, denormal inputs and
results, and the overflow edges give IEEE results (what NumPy gives). sqrt needs nothing
here: `math.sqrt` lowers to `llvm.sqrt`, one vector instruction.

Eager mode keeps NumPy's results; a primitive's `simd_expr` (ir/registry.py) names the
function used for it in CPU loops, and CUDA kernels keep `expr` (the device has fast
transcendentals). The shadow check's float32 tolerance (1e-4 relative) is far above
these bounds.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from ..ir.primitives.erf_float32 import P as ERF_P, Q as ERF_Q

BOUND_ULPS = {
    "exp": (1, 2), "log": (1, 1), "tanh": (2, 2), "sigmoid": (2, 2),
    "log1p": (1, 2), "expm1": (1, 2), "pow": (1, 0), "erf": (1, 0),
}   # name -> (float32, float64) bound in ulps; 0: the scalar libm function is kept

_F32, _F64 = np.float32, np.float64
_JIT = dict(error_model="numpy", cache=True)


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE bits of a float32 (as int32) or float64 (as int64)."""
    if x == types.float32:
        ret, lty = types.int32, ir.IntType(32)
    elif x == types.float64:
        ret, lty = types.int64, ir.IntType(64)
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], lty)
    return ret(x), codegen


@intrinsic
def _bits_float(typingctx, bits):
    """The float32 (from int32) or float64 (from int64) with these IEEE bits."""
    if bits == types.int32:
        ret, lty = types.float32, ir.FloatType()
    elif bits == types.int64:
        ret, lty = types.float64, ir.DoubleType()
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], lty)
    return ret(bits), codegen


# LLVM contracts nothing into FMAs without fast-math flags; written out, each Horner step is
# one vfmadd instead of a multiply and an add (and rounds once). On a CPU without FMA the
# intrinsic would become a libm call per lane, so there it is a multiply and an add.
_HAS_FMA = "+fma" in llvm_binding.get_host_cpu_features().flatten().split(",")


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c, fused where the CPU has FMA."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        if _HAS_FMA:
            t = args[0].type
            fn = builder.module.declare_intrinsic("llvm.fma", [t], ir.FunctionType(t, [t, t, t]))
            return builder.call(fn, args)
        return builder.fadd(builder.fmul(args[0], args[1]), args[2])
    return a(a, b, c), codegen


@intrinsic
def _select(typingctx, cond, a, b):
    """`a if cond else b` as one LLVM select: no branch for the vectorizer to if-convert,
    and no control flow in the functions Numba inlines into each kernel."""
    if not (isinstance(cond, types.Boolean) and a == b):
        return None

    def codegen(context, builder, signature, args):
        return builder.select(args[0], args[1], args[2])
    return a(cond, a, b), codegen


@intrinsic
def _floor(typingctx, x):
    """floor(x) as a float (llvm.floor: one vector instruction; math.floor gives an int)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.floor", [t], ir.FunctionType(t, [t]))
        return builder.call(fn, args)
    return x(x), codegen


# -- float32 ------------------------------------------------------------------------------
_LOG2E_F = _F32(1.44269504088896341)
_ROUND_F = _F32(12582912.0)            # 1.5 * 2**23: adding it rounds to an integer
_LN2_HI_F, _LN2_LO_F = _F32(0.693359375), _F32(-2.12194440e-4)
_EXP_P_F = [_F32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                              4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)]
_ONE_F, _TWO_F, _HALF_F, _ZERO_F = _F32(1.0), _F32(2.0), _F32(0.5), _F32(0.0)
_INF_F, _NAN_F = _F32(np.inf), _F32(np.nan)
_EXP_HI_F, _EXP_LO_F = _F32(89.0), _F32(-104.0)
P0f, P1f, P2f, P3f, P4f, P5f = _EXP_P_F


@njit(**_JIT)
def _pow2_f32(n):
    """2**n as the product of two normal powers of two, so that results down to the
    smallest denormal are rounded once; n in [-150, 129]."""
    n1 = n >> 1
    a = _bits_float(np.int32((n1 + 127) << 23))
    b = _bits_float(np.int32((n - n1 + 127) << 23))
    return a, b


@njit(**_JIT)
def exp_f32(x):
    # Clamped so that 2**n stays within _pow2_f32's range; past the clamp the result has
    # already overflowed to inf or underflowed to 0. NaN is put back at the end.
    xc = _select(x < _EXP_HI_F, x, _EXP_HI_F)
    xc = _select(xc > _EXP_LO_F, xc, _EXP_LO_F)
    v = _fma(xc, _LOG2E_F, _ROUND_F)
    fn = v - _ROUND_F
    n = _float_bits(v) - _float_bits(_ROUND_F)
    r = _fma(fn, -_LN2_LO_F, _fma(fn, -_LN2_HI_F, xc))
    z = r * r
    p = _fma(_fma(_fma(_fma(_fma(_fma(P0f, r, P1f), r, P2f), r, P3f), r, P4f), r, P5f), z, r) + _ONE_F
    a, b = _pow2_f32(n)
    y = p * a * b
    return _select(x == x, y, x)


_SQRTH_F = _F32(0.707106781186547524)
_LOG_P_F = [_F32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                              -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                              2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
L0f, L1f, L2f, L3f, L4f, L5f, L6f, L7f, L8f = _LOG_P_F
_MIN_NORMAL_F = _F32(1.17549435e-38)
_TWO23_F = _F32(8388608.0)


@njit(**_JIT)
def log_f32(x):
    tiny = x < _MIN_NORMAL_F                     # denormals: scale into the normal range
    xs = _select(tiny, x * _TWO23_F, x)
    # musl's reduction: offsetting the bits by 1 - sqrt(1/2) puts the mantissa in
    # [sqrt(1/2), sqrt(2)) directly, with no compare and select
    # Every integer step truncated back to int32: Numba widens int32 arithmetic to int64,
    # and 64-bit lanes halve the vector width.
    bits = np.int32(_float_bits(xs) + (0x3f800000 - 0x3f3504f3))
    fe = _F32(np.int32(bits >> 23)) - _select(tiny, _F32(0x7f + 23), _F32(0x7f))
    f = _bits_float(np.int32((bits & 0x007fffff) + 0x3f3504f3)) - _ONE_F
    z = f * f
    y = _fma(_fma(_fma(_fma(_fma(_fma(_fma(_fma(L0f, f, L1f), f, L2f), f, L3f), f, L4f), f, L5f),
                        f, L6f), f, L7f), f, L8f) * f * z
    y = y + fe * _LN2_LO_F - _HALF_F * z
    r = f + y + fe * _LN2_HI_F
    r = _select(x == _ZERO_F, -_INF_F, r)
    r = _select(x < _ZERO_F, _NAN_F, r)
    return _select(x < _INF_F, r, x)  # +inf and nan are their own log


_TANH_CLAMP_F = _F32(10.0)    # tanh rounds to +-1 in float32 past 9.01
_TANH_TINY_F = _F32(0.0004)


@njit(**_JIT)
def _expm1_0_20_f32(x):
    """expm1 for x in [0, 20] (tanh's range): 2**n (p(r) - 1) + (2**n - 1), both products exact,
    one rounding in the sum; for n = 0 it is p(r) - 1 itself, accurate near 0."""
    v = _fma(x, _LOG2E_F, _ROUND_F)
    fn = v - _ROUND_F
    n = _float_bits(v) - _float_bits(_ROUND_F)
    r = _fma(fn, -_LN2_LO_F, _fma(fn, -_LN2_HI_F, x))
    z = r * r
    q = _fma(_fma(_fma(_fma(_fma(_fma(P0f, r, P1f), r, P2f), r, P3f), r, P4f), r, P5f), z, r)
    scale = _bits_float(np.int32((n + 127) << 23))
    return _fma(scale, q, scale - _ONE_F)


@njit(**_JIT)
def tanh_f32(x):
    # tanh |x| = em / (em + 2), em = expm1(2|x|): one polynomial, one division, accurate from
    # the smallest inputs (em ~ 2|x|) to where it rounds to 1. (Eigen's 13/6 rational over the
    # whole range was off by up to 5 ulps near |x| = 5.)
    a = abs(x)
    a = _select(a < _TANH_CLAMP_F, a, _TANH_CLAMP_F)
    em = _expm1_0_20_f32(a + a)
    t = em / (em + _TWO_F)
    y = _select(x >= _ZERO_F, t, -t)
    y = _select(a < _TANH_TINY_F, x, y)          # tanh x = x in float32 there; keeps -0.0
    return _select(x == x, y, x)


@njit(**_JIT)
def sigmoid_f32(x):
    e = exp_f32(-abs(x))
    return _select(x >= _ZERO_F, _ONE_F, e) / (_ONE_F + e)


# -- float64 ------------------------------------------------------------------------------
_LOG2E = 1.4426950408889634073599
_ROUND = 6755399441055744.0            # 1.5 * 2**52
_LN2_HI, _LN2_LO = 6.93145751953125e-1, 1.42860682030941723212e-6
EP0, EP1, EP2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1
EQ0, EQ1, EQ2, EQ3 = (3.00198505138664455042e-6, 2.52448340349684104192e-3,
                      2.27265548208155028766e-1, 2.00000000000000000009e0)


@njit(**_JIT)
def _pow2_f64(n):
    n1 = n >> 1
    a = _bits_float(np.int64((n1 + 1023) << 52))
    b = _bits_float(np.int64((n - n1 + 1023) << 52))
    return a, b


@njit(**_JIT)
def exp_f64(x):
    xc = _select(x < 710.0, x, 710.0)
    xc = _select(xc > -746.0, xc, -746.0)
    v = _fma(xc, _LOG2E, _ROUND)
    fn = v - _ROUND
    n = _float_bits(v) - _float_bits(_ROUND)
    r = _fma(fn, -_LN2_LO, _fma(fn, -_LN2_HI, xc))
    rr = r * r
    px = r * _fma(_fma(EP0, rr, EP1), rr, EP2)
    q = _fma(_fma(_fma(EQ0, rr, EQ1), rr, EQ2), rr, EQ3)
    y = 1.0 + 2.0 * (px / (q - px))
    a, b = _pow2_f64(n)
    y = y * a * b
    return _select(x == x, y, x)


LP0, LP1, LP2, LP3, LP4, LP5 = (1.01875663804580931796e-4, 4.97494994976747001425e-1,
                                4.70579119878881725854e0, 1.44989225341610930846e1,
                                1.79368678507819816313e1, 7.70838733755885391666e0)
LQ0, LQ1, LQ2, LQ3, LQ4 = (1.12873587189167450590e1, 4.52279145837532221105e1,
                           8.29875266912776603211e1, 7.11544750618563894466e1,
                           2.31251620126765340583e1)
_SQRTH = 0.70710678118654752440
_MIN_NORMAL = 2.2250738585072014e-308
_TWO52 = 4503599627370496.0


@njit(**_JIT)
def log_f64(x):
    tiny = x < _MIN_NORMAL
    xs = _select(tiny, x * _TWO52, x)
    bits = _float_bits(xs) + (0x3ff0000000000000 - 0x3fe6a09e667f3bcd)
    e = (bits >> 52) - _select(tiny, np.int64(0x3ff + 52), np.int64(0x3ff))
    f = _bits_float(np.int64((bits & 0x000fffffffffffff) + 0x3fe6a09e667f3bcd)) - 1.0
    fe = float(e)
    z = f * f
    p = _fma(_fma(_fma(_fma(_fma(LP0, f, LP1), f, LP2), f, LP3), f, LP4), f, LP5)
    q = _fma(_fma(_fma(_fma(f + LQ0, f, LQ1), f, LQ2), f, LQ3), f, LQ4)
    y = f * (z * p / q)
    y = y - fe * 2.121944400546905827679e-4 - 0.5 * z
    r = f + y + fe * 0.693359375
    r = _select(x == 0.0, -np.inf, r)
    r = _select(x < 0.0, np.nan, r)
    return _select(x < np.inf, r, x)


TP0, TP1, TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
TQ0, TQ1, TQ2 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3


@njit(**_JIT)
def tanh_f64(x):
    a = abs(x)
    z = x * x
    small = x + x * z * (((TP0 * z + TP1) * z + TP2) / (((z + TQ0) * z + TQ1) * z + TQ2))
    ac = _select(a < 22.0, a, 22.0)  # tanh is 1.0 in float64 past 19.1
    big = 1.0 - 2.0 / (exp_f64(ac + ac) + 1.0)
    big = _select(x >= 0.0, big, -big)
    y = _select(a < 0.625, small, big)
    y = _select(a < 1e-9, x, y)                  # tanh x = x in float64 there; keeps -0.0
    return _select(x == x, y, x)


@njit(**_JIT)
def sigmoid_f64(x):
    e = exp_f64(-abs(x))
    return _select(x >= 0.0, 1.0, e) / (1.0 + e)


@njit(**_JIT)
def log1p_f64(x):
    u = 1.0 + x
    d = u - 1.0
    y = log_f64(u) * (x / _select(d == 0.0, 1.0, d))    # (no division by zero in any model)
    y = _select(u == 1.0, x, y)  # |x| below half an ulp of 1 (and -0.0)
    return _select(x < np.inf, y, x)


@njit(**_JIT)
def expm1_f64(x):
    u = exp_f64(x)
    um = u - 1.0
    lu = log_f64(u)
    y = um * (x / _select(lu == 0.0, 1.0, lu))
    y = _select(u == 1.0, x, y)
    y = _select(um == -1.0, -1.0, y)
    return _select(u < np.inf, y, u)


@njit(**_JIT)
def log1p_f32(x):
    return _F32(log1p_f64(np.float64(x)))


@njit(**_JIT)
def expm1_f32(x):
    return _F32(expm1_f64(np.float64(x)))


@njit(**_JIT)
def pow_f32(x, y):
    """x ** y for float32 x and y: exp(y log|x|) in float64, then IEEE's special cases."""
    xd, yd = np.float64(x), np.float64(y)
    r = exp_f64(yd * log_f64(abs(xd)))
    integer = _floor(yd) == yd
    half = yd * 0.5
    odd = integer & (_floor(half) != half)
    r = _select(odd & (math.copysign(1.0, xd) < 0.0), -r, r)
    r = _select((xd < 0.0) & (xd > -np.inf) & ~integer, np.nan, r)
    r = _select((abs(xd) == 1.0) & (abs(yd) == np.inf), 1.0, r)    # (-1) ** +-inf
    r = _select((yd == 0.0) | (xd == 1.0), 1.0, r)                 # even with a nan
    return _F32(r)


# erf for float32 (ir/primitives/erf_float32.py: the algorithm, its coefficients and its error;
# the eager impl evaluates the same polynomials with NumPy)
ES0, ES1, ES2, ES3, ES4, ES5, ES6, ES7 = ERF_P
EB0, EB1, EB2, EB3, EB4, EB5, EB6, EB7, EB8, EB9, EB10, EB11 = ERF_Q


@njit(**_JIT)
def _erf_small(x):
    u = x * x
    p = _fma(_fma(_fma(_fma(_fma(_fma(_fma(ES7, u, ES6), u, ES5), u, ES4), u, ES3), u, ES2), u,
                  ES1), u, ES0)
    return x * p


@njit(**_JIT)
def _erfc_scaled(t):
    q = _fma(_fma(_fma(_fma(_fma(_fma(EB11, t, EB10), t, EB9), t, EB8), t, EB7), t, EB6), t, EB5)
    return _fma(_fma(_fma(_fma(_fma(q, t, EB4), t, EB3), t, EB2), t, EB1), t, EB0)


@njit(**_JIT)
def erf_f32(x):
    xd = np.float64(x)
    a = abs(xd)
    ac = _select(a < 4.0, a, 4.0)
    ac = _select(ac >= 1.0, ac, 1.0)      # the big branch's own range: no 1/0 in any lane
    big = 1.0 - exp_f64(-ac * ac) * _erfc_scaled(1.0 / ac)
    big = _select(a < 4.0, big, 1.0)
    y = _select(a < 1.0, _erf_small(xd), _select(xd < 0.0, -big, big))
    return _F32(_select(xd == xd, y, xd))


def verf(x):
    return erf_f32(x) if isinstance(x, np.float32) else math.erf(x)


@overload(verf, jit_options=_JIT)
def _verf_typed(x):
    if x == types.float32:
        return lambda x: erf_f32(x)
    if isinstance(x, types.Float):
        return lambda x: math.erf(x)
    return None


# -- what generated code calls: one name per function, typed by its argument -------------
def _generic(name, f32, f64):
    def stub(x):
        return (f32 if isinstance(x, np.float32) else f64)(x)
    stub.__name__ = stub.__qualname__ = name

    # The implementation is the typed function's own Python function, not a closure calling
    # it: Numba keys a cached closure by its pickled cells, and a pickled dispatcher holds a
    # per-process id, so every process missed the cache, compiled the closure again (~0.06 s
    # of CPU per function and dtype) and added an entry to one index shared by all of them.
    # Numba's cache of this function is the typed function's own (same source, same line).
    @overload(stub, jit_options=_JIT)
    def _typed(x):
        if x == types.float32:
            return f32.py_func
        if x == types.float64:
            return f64.py_func
        return None
    return stub


vexp = _generic("vexp", exp_f32, exp_f64)
vlog = _generic("vlog", log_f32, log_f64)
vtanh = _generic("vtanh", tanh_f32, tanh_f64)
vsigmoid = _generic("vsigmoid", sigmoid_f32, sigmoid_f64)
vlog1p = _generic("vlog1p", log1p_f32, log1p_f64)
vexpm1 = _generic("vexpm1", expm1_f32, expm1_f64)


def vpow(x, y):
    return pow_f32(x, y) if isinstance(x, np.float32) else x ** y


@overload(vpow, jit_options=_JIT)
def _vpow_typed(x, y):
    if x == types.float32 and y == types.float32:
        return lambda x, y: pow_f32(x, y)
    if isinstance(x, types.Float) and isinstance(y, types.Float):
        return lambda x, y: x ** y
    return None


__all__ = ["vexp", "vlog", "vtanh", "vsigmoid", "vlog1p", "vexpm1", "vpow", "verf", "BOUND_ULPS"]
