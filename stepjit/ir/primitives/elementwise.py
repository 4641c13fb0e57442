"""Elementwise primitives: impl, dtype rule, gradient and scalar expression side by side.

VJP rules use tensor methods only, so they run on eager tensors and on
trace-time tensors alike. Gradients are returned at the broadcast shape; the
autograd engine sums them back to each input's shape.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import Primitive, bind, register
from ..bfloat16 import cast as bf16_cast
from ..types import BOOL, FLOAT, bool_ as BOOL_DTYPE
from . import erfinv_fn, gamma_fns, shapes as S, special_fns
from .erf_float32 import erf_float32


def _ew(name, impl, rule, vjp, expr, nin, grad_name=None, attrs=(), casts=None, exact=False,
        simd_expr=None, identity=(), float_closed=False):
    inputs = ("x",) if nin == 1 else ("x", "y")
    if casts is None:
        casts = tuple(range(nin))
    return register(Primitive(name, "elementwise", impl, rule, inputs=inputs, attrs=attrs,
                              vjp=vjp, expr=expr, grad_name=grad_name, casts=casts, exact=exact,
                              simd_expr=simd_expr, identity=identity,
                              float_closed=float_closed))


def _zero_grad(g):
    return g * 0


# -- arithmetic --------------------------------------------------------------
# (x + -0.0 is x for every x, -0.0 included; x + 0.0 is not: -0.0 + 0.0 == 0.0)
add = _ew("add", np.add, S.same_rule, (lambda g: g, lambda g: g), "({0} + {1})", 2, exact=True,
          identity=((1, -0.0), (0, -0.0)), float_closed=True)
sub = _ew("sub", np.subtract, S.arith_rule, (lambda g: g, lambda g: -g), "({0} - {1})", 2, exact=True,
          identity=((1, 0.0),), float_closed=True)
mul = _ew("mul", np.multiply, S.same_rule,
          (lambda g, y: g * y, lambda g, x: g * x), "({0} * {1})", 2, exact=True,
          identity=((1, 1), (0, 1)), float_closed=True)
div = _ew("div", np.true_divide, S.float_rule,
          (lambda g, y: g / y, lambda g, y, out: -g * out / y), "({0} / {1})", 2, exact=True,
          identity=((1, 1),), float_closed=True)
# Python's (and PyTorch's) floor division, in the operands' own dtype: integers never round
# trip through a float (int64 // 1 of 2**24 + 1 stays exact), floats take NumPy's divmod, which
# is the algorithm PyTorch's div_floor_floating runs (1.0 // 0.1 == 9.0, not floor(1 / 0.1)).
floor_divide = _ew("floor_divide", np.floor_divide, S.arith_rule, (_zero_grad, _zero_grad),
                   "({0} // {1})", 2, grad_name="DivBackward2")


def _pow_base_grad(g, x, y):
    if isinstance(y, (int, float)):
        if y == 0:
            return g * 0
        if y == 2:
            return g * 2 * x  # the common square: no pow(x, 1) pass
        return g * y * x ** (y - 1)
    # PyTorch's pow_backward: 0 where the exponent is 0 (not 0 * x**-1 = nan at x == 0)
    return (g * (y * x ** (y - 1))).where(y != 0, 0.0)


def _pow_exp_grad(g, x, y, out):
    # d/dy x**y = x**y log x, taken as 0 where x == 0 and y >= 0 (PyTorch's convention).
    if isinstance(x, (int, float)):  # a Python scalar base: 2.0 ** t
        if x == 0:
            return (g * out * -math.inf).where(y < 0, 0.0)
        return g * out * (math.log(x) if x > 0 else math.nan)
    zero_base = (x == 0).logical_and(y >= 0)
    return (g * (out * x.log())).where(zero_base.logical_not(), 0.0)


def _pow_expr(node):
    # NumPy squares by multiplication: the same bits as x * x, not as pow
    y = node.inputs[1]
    return "({0} * {0})" if not hasattr(y, "shape") and y == 2 else "({0} ** {1})"


def _pow_simd_expr(node):
    y = node.inputs[1]
    return "({0} * {0})" if not hasattr(y, "shape") and y == 2 else "vpow({0}, {1})"


pow = _ew("pow", np.power, S.arith_rule, (_pow_base_grad, _pow_exp_grad), _pow_expr, 2,
          grad_name="PowBackward0", simd_expr=_pow_simd_expr, identity=((1, 1),))


def _max_grad(g, x, y):
    # PyTorch's rule: half at a tie, nothing where the other operand is larger, all of it
    # otherwise, so a NaN operand (no comparison holds) passes the gradient on.
    return (g * 0.5).where(x == y, g.where((x < y).logical_not(), 0.0))


def _min_grad(g, x, y):
    return (g * 0.5).where(x == y, g.where((x > y).logical_not(), 0.0))


maximum = _ew("maximum", np.maximum, S.arith_rule,
              (_max_grad, lambda g, x, y: _max_grad(g, y, x)), "maximum({0}, {1})", 2)
minimum = _ew("minimum", np.minimum, S.arith_rule,
              (_min_grad, lambda g, x, y: _min_grad(g, y, x)), "minimum({0}, {1})", 2)

def _atan2_recip(x, y):
    # 1 / (x^2 + y^2), 0 where that sum is 0 (both operands zero, or squares underflowing):
    # PyTorch's atan2 gradient is 0 there, not 0 / 0
    d = x * x + y * y
    return (1.0 / d).where(d != 0, 0.0)


def _atan2_grad(g, x, y):
    # d/dx atan2(x, y) = y / (x^2 + y^2): x is the ordinate (PyTorch's `input`)
    return g * y * _atan2_recip(x, y)


def _atan2_other_grad(g, x, y):
    return g * -x * _atan2_recip(x, y)


# atan2 is the one inverse trigonometric primitive: atan, asin and acos are composites of it.
atan2 = _ew("atan2", np.arctan2, S.float_rule, (_atan2_grad, _atan2_other_grad),
            "math.atan2({0}, {1})", 2)

# -- unary math --------------------------------------------------------------
neg = _ew("neg", np.negative, S.arith_rule, (lambda g: -g,), "(-{0})", 1, exact=True,
          float_closed=True)
exp = _ew("exp", np.exp, S.float_rule, (lambda g, out: g * out,), "math.exp({0})", 1,
          simd_expr="vexp({0})")
log = _ew("log", np.log, S.float_rule, (lambda g, x: g / x,), "math.log({0})", 1,
          simd_expr="vlog({0})")
log1p = _ew("log1p", np.log1p, S.float_rule, (lambda g, x: g / (x + 1),), "math.log1p({0})", 1,
            simd_expr="vlog1p({0})")
sqrt = _ew("sqrt", np.sqrt, S.float_rule, (lambda g, out: g / (out * 2),), "math.sqrt({0})", 1, exact=True)
sin = _ew("sin", np.sin, S.float_rule, (lambda g, x: g * x.cos(),), "math.sin({0})", 1)
cos = _ew("cos", np.cos, S.float_rule, (lambda g, x: -g * x.sin(),), "math.cos({0})", 1)
log2 = _ew("log2", np.log2, S.float_rule, (lambda g, x: g / (x * math.log(2.0)),),
           "math.log2({0})", 1)
log10 = _ew("log10", np.log10, S.float_rule, (lambda g, x: g / (x * math.log(10.0)),),
            "math.log10({0})", 1)
expm1 = _ew("expm1", np.expm1, S.float_rule, (lambda g, out: g * (out + 1),),
            "math.expm1({0})", 1, simd_expr="vexpm1({0})")
_UFUNCS = {}


def _numba_ufunc(name, fn, nargs):
    """A Numba ufunc of the scalar function fn, made on first use (for what NumPy lacks)."""
    if name not in _UFUNCS:
        import numba
        sigs = (["float32(float32)", "float64(float64)"] if nargs == 1 else
                ["float32(float32, int64)", "float64(float64, int64)"])
        _UFUNCS[name] = numba.vectorize(sigs, cache=True)(fn)
    return _UFUNCS[name]


def _erf_impl(x):
    """NumPy has no erf. float32: erf_float32.py's polynomials in NumPy (the algorithm compiled
    loops use; no Numba import, a fifth of a fresh process's first GELU step); float64:
    math.erf through a Numba ufunc made on first use."""
    if getattr(x, "dtype", None) == np.float32:
        return erf_float32(x)
    return _numba_ufunc("erf", lambda v: math.erf(v), 1)(x)


erf = _ew("erf", _erf_impl, S.float_rule,
          (lambda g, x: g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi)),), "math.erf({0})", 1,
          simd_expr="verf({0})")
def _erfinv_impl(x):
    """NumPy has no erfinv: erfinv_fn.py's scalar function through a Numba ufunc made on first
    use (the function compiled kernels call)."""
    return _numba_ufunc("erfinv", erfinv_fn.erfinv, 1)(x)


erfinv = _ew("erfinv", _erfinv_impl, S.float_rule,
             (lambda g, out: g * (out * out).exp() * (math.sqrt(math.pi) / 2),), "erfinv({0})", 1)
# -- the gamma family: NumPy has none of them, so (as erf) a Numba ufunc made on first use,
# over the same scalar functions the generated kernels call (gamma_fns.py)
def _lgamma_impl(x):
    return _numba_ufunc("lgamma", lambda v: math.lgamma(v), 1)(x)


def _digamma_impl(x):
    return _numba_ufunc("digamma", gamma_fns.digamma, 1)(x)


def _polygamma_impl(x, n):
    return _numba_ufunc("polygamma", gamma_fns.polygamma, 2)(x, n)


def _polygamma_rule(x, n):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise S.ShapeError(f"polygamma(n, x) does not support negative n (got n={n!r}); "
                           "n = 0 is digamma")
    return S.float_rule(x)


lgamma = _ew("lgamma", _lgamma_impl, S.float_rule,
             (lambda g, x: g * bind(digamma, x),), "math.lgamma({0})", 1)
digamma = _ew("digamma", _digamma_impl, S.float_rule,
              (lambda g, x: g * bind(polygamma, x, n=1),), "digamma({0})", 1)
polygamma = _ew("polygamma", _polygamma_impl, _polygamma_rule,
                (lambda g, x, n: g * bind(polygamma, x, n=n + 1),), "polygamma({0}, {n})", 1,
                attrs=("n",), casts=(0,))
sinh = _ew("sinh", np.sinh, S.float_rule, (lambda g, x: g * ((x.exp() + (-x).exp()) * 0.5),),
           "math.sinh({0})", 1)
tanh = _ew("tanh", np.tanh, S.float_rule, (lambda g, out: g * (1 - out * out),),
           "math.tanh({0})", 1, simd_expr="vtanh({0})")


def _sigmoid_impl(x):
    # Written so that neither branch overflows: exp of a non-positive number only.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = _ew("sigmoid", _sigmoid_impl, S.float_rule,
              (lambda g, out: g * out * (1 - out),), "sigmoid({0})", 1, simd_expr="vsigmoid({0})")
# relu's gradient is PyTorch's threshold_backward: zero where out <= 0, so at a NaN input
# (out is NaN) the gradient passes, as it does in PyTorch.
relu = _ew("relu", lambda x: np.maximum(x, 0).astype(x.dtype, copy=False), S.arith_rule,
           (lambda g, out: g.where((out <= 0).logical_not(), 0.0),), "max({0}, 0)", 1)
abs = _ew("abs", np.abs, S.arith_rule, (lambda g, x: g * x.sign(),), "abs({0})", 1, exact=True)


def _sign_impl(x):
    # PyTorch's sign(nan) is 0 (NumPy's is nan): NaN compares false both ways.
    if x.dtype.kind != "f":
        return np.sign(x)
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


sign = _ew("sign", _sign_impl, S.arith_rule, (_zero_grad,), "sign({0})", 1)
floor = _ew("floor", np.floor, S.arith_rule, (_zero_grad,), "math.floor({0})", 1, exact=True)
ceil = _ew("ceil", np.ceil, S.arith_rule, (_zero_grad,), "math.ceil({0})", 1, exact=True)
round = _ew("round", np.round, S.arith_rule, (_zero_grad,), "round_half_even({0})", 1,
            exact=True)   # Numba's round() of a float returns an int: codegen/scalar.py


def _clamp_impl(x, lo, hi):
    # np.clip's Python wrapper costs more than the work on small arrays; this is the same
    # min(max(x, lo), hi) with NaN propagated, straight through the ufuncs.
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return x


def _clamp_grad(g, x, lo, hi):
    keep = None
    if lo is not None:
        keep = x >= lo
    if hi is not None:
        keep = (x <= hi) if keep is None else keep & (x <= hi)
    return g.where(keep, 0.0)


clamp = _ew("clamp", _clamp_impl, S.arith_rule, (_clamp_grad,), "clamp({0}, {lo}, {hi})", 1,
            attrs=("lo", "hi"),
            grad_name=lambda a: "ClampMinBackward0" if a["hi"] is None else (
                "ClampMaxBackward0" if a["lo"] is None else "ClampBackward1"))

# -- comparisons and logic (no gradient) ---------------------------------------
eq = _ew("eq", np.equal, S.compare_rule, None, "({0} == {1})", 2, casts=(), exact=True)
ne = _ew("ne", np.not_equal, S.compare_rule, None, "({0} != {1})", 2, casts=(), exact=True)
lt = _ew("lt", np.less, S.compare_rule, None, "({0} < {1})", 2, casts=(), exact=True)
le = _ew("le", np.less_equal, S.compare_rule, None, "({0} <= {1})", 2, casts=(), exact=True)
gt = _ew("gt", np.greater, S.compare_rule, None, "({0} > {1})", 2, casts=(), exact=True)
ge = _ew("ge", np.greater_equal, S.compare_rule, None, "({0} >= {1})", 2, casts=(), exact=True)
logical_not = _ew("logical_not", np.logical_not, S.logical_rule, None, "(not {0})", 1, casts=(), exact=True)
logical_and = _ew("logical_and", np.logical_and, S.logical_rule, None, "({0} and {1})", 2, casts=(),
                  exact=True)
logical_or = _ew("logical_or", np.logical_or, S.logical_rule, None, "({0} or {1})", 2, casts=(), exact=True)

# -- bitwise (integer and bool tensors; no gradient) -------------------------------------------
# Shifts by a negative amount or by the width of int64 or more are 0 (a right shift of a
# negative number: -1), as NumPy's and PyTorch's are; the generated loops call scalar.py's
# helpers, which test the amount first (the machine's shift is undefined there).
def _bitwise_not_expr(node):
    # ~ of a Python bool is -2 in a kernel: not, for a bool result
    return "(not {0})" if node.out.dtype is BOOL_DTYPE else "(~{0})"


bitwise_and = _ew("bitwise_and", np.bitwise_and, S.integral_rule, None, "({0} & {1})", 2,
                  exact=True)
bitwise_or = _ew("bitwise_or", np.bitwise_or, S.integral_rule, None, "({0} | {1})", 2,
                 exact=True)
bitwise_xor = _ew("bitwise_xor", np.bitwise_xor, S.integral_rule, None, "({0} ^ {1})", 2,
                  exact=True)
bitwise_not = _ew("bitwise_not", np.invert, S.integral_rule, None, _bitwise_not_expr, 1,
                  exact=True)
left_shift = _ew("left_shift", np.left_shift, S.shift_rule, None, "left_shift({0}, {1})", 2,
                 exact=True)
right_shift = _ew("right_shift", np.right_shift, S.shift_rule, None, "right_shift({0}, {1})", 2,
                  exact=True)

# Greatest common divisor, never negative (gcd(0, 0) = 0), as NumPy's and PyTorch's; kernels
# call codegen/scalar.py's Euclid loop (Numba's CUDA target has no math.gcd).
gcd = _ew("gcd", np.gcd, S.shift_rule, None, "gcd({0}, {1})", 2, exact=True)

# -- selection and conversion ----------------------------------------------------
where = register(Primitive(
    "where", "elementwise", np.where, S.where_rule, inputs=("cond", "x", "y"),
    vjp=(None, lambda g, cond: g.where(cond, 0.0), lambda g, cond: g.where(cond.logical_not(), 0.0)),
    expr="({1} if {0} else {2})", casts=(1, 2), exact=True))

def _cast_exact(node):
    """float -> int casts are not exact: out-of-range conversions differ between code paths."""
    src = node.inputs[0]
    return not (hasattr(src, "dtype") and src.dtype.category == FLOAT
                and node.out.dtype.category not in (FLOAT, BOOL))


cast = register(Primitive(
    "cast", "elementwise", lambda x, dtype: bf16_cast(x, dtype.np), S.cast_rule, inputs=("x",),
    attrs=("dtype",), vjp=(lambda g: g,), expr="{0}", grad_name="ToCopyBackward0",
    exact=_cast_exact))

copy = register(Primitive(
    "copy", "elementwise", lambda x: x.copy(order="K"), S.same_rule, inputs=("x",), vjp=(lambda g: g,),
    expr="{0}", grad_name="CloneBackward0", exact=True))


# -- modified Bessel I0/I1 and their scaled forms, ndtri, erfcx: special_fns.py's scalar
# functions (NumPy has only i0, SciPy is no dependency), as the gamma family above
_BESSEL_I = None   # special_fns.bessel_i, njit-ed on first use (the scalars below call it)


def _i0_scalar(v):
    return _BESSEL_I(v, 0.0, False)


def _i0e_scalar(v):
    return _BESSEL_I(v, 0.0, True)


def _i1_scalar(v):
    return _BESSEL_I(v, 1.0, False)


def _i1e_scalar(v):
    return _BESSEL_I(v, 1.0, True)


def _special_impl(name, scalar):
    """The eager impl: a Numba ufunc of `scalar` made on first use (module-level functions, so
    Numba caches them on disk)."""
    def impl(x):
        global _BESSEL_I
        if _BESSEL_I is None:
            import numba
            _BESSEL_I = numba.njit(cache=True)(special_fns.bessel_i)
        return _numba_ufunc(name, scalar, 1)(x)
    return impl


def _over_x_near_zero_half(g, x, head, out, tail=0.0):
    """g * (head - out * (tail + 1 / x)), the derivative of I1 (tail 0) or I1e (tail sign x),
    taking its limit 1/2 where |x| < 1e-15 (there out / x is 1/2 to rounding, and 1 / x
    overflows or out underflows)."""
    far = x.abs() > 1e-15
    ratio = out / x.where(far, 1.0)
    return g * (head - out * tail - ratio).where(far, 0.5)


i0 = _ew("i0", _special_impl("i0", _i0_scalar), S.float_rule,
         (lambda g, x: g * bind(i1, x),), "bessel_i({0}, 0.0, False)", 1)
i1 = _ew("i1", _special_impl("i1", _i1_scalar), S.float_rule,
         (lambda g, x, out: _over_x_near_zero_half(g, x, bind(i0, x), out),),
         "bessel_i({0}, 1.0, False)", 1)
i0e = _ew("i0e", _special_impl("i0e", _i0e_scalar), S.float_rule,
          (lambda g, x, out: g * (bind(i1e, x) - x.sign() * out),),
          "bessel_i({0}, 0.0, True)", 1)
i1e = _ew("i1e", _special_impl("i1e", _i1e_scalar), S.float_rule,
          (lambda g, x, out: _over_x_near_zero_half(g, x, bind(i0e, x), out, x.sign()),),
          "bessel_i({0}, 1.0, True)", 1)
ndtri = _ew("ndtri", _special_impl("ndtri", special_fns.ndtri), S.float_rule,
            (lambda g, out: g * (out * out * 0.5).exp() * math.sqrt(2 * math.pi),),
            "ndtri({0})", 1)
erfcx = _ew("erfcx", _special_impl("erfcx", special_fns.erfcx), S.float_rule,
            (lambda g, x, out: g * ((x * 2) * out - 2 / math.sqrt(math.pi)),), "erfcx({0})", 1)
