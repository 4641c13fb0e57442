"""More elementwise math: inverse and hyperbolic trigonometry, hypot, logaddexp, trunc,
frac, logit, xlogy, as decompositions into the registry's primitives.

`atan2` is the one inverse-trigonometric primitive; atan, asin and acos are atan2 of the
right pair (asin x = atan2(x, sqrt(1 - x^2))), so their gradients are atan2's rule through
the chain rule (1 / sqrt(1 - x^2) for asin) and no second formula exists. logaddexp takes
the larger operand out before the exponential (no overflow), and reads a zero difference
where the operands are equal, so equal infinities give that infinity and gradient 1/2 each
(PyTorch's gradient is NaN there).
"""
from __future__ import annotations

import math

from ..dispatch import apply
from ..ir import primitives as P
from ..ir.types import FLOAT, default_float, float64
from ..tensor import Tensor
from .elementwise import abs, ceil, exp, floor, log, log1p, sqrt, where
from .creation import tensor


def atan2(input, other):
    return apply(P.atan2, input, other)


arctan2 = atan2


def atan(input):
    return apply(P.atan2, input, 1.0)


def asin(input):
    return apply(P.atan2, input, sqrt(apply(P.sub, 1.0, apply(P.mul, input, input))))


def acos(input):
    return apply(P.atan2, sqrt(apply(P.sub, 1.0, apply(P.mul, input, input))), input)


def tan(input):
    return apply(P.div, apply(P.sin, input), apply(P.cos, input))


def sinh(input):
    return apply(P.sinh, input)


def cosh(input):
    e = exp(input)
    return apply(P.mul, apply(P.add, e, apply(P.div, 1.0, e)), 0.5)


def asinh(input):
    return log(apply(P.add, input, sqrt(apply(P.add, apply(P.mul, input, input), 1.0))))


def acosh(input):
    return log(apply(P.add, input, sqrt(apply(P.sub, apply(P.mul, input, input), 1.0))))


def atanh(input):
    return apply(P.mul, apply(P.sub, log1p(input), log1p(apply(P.neg, input))), 0.5)


def deg2rad(input):
    return apply(P.mul, input, math.pi / 180.0)


def rad2deg(input):
    return apply(P.mul, input, 180.0 / math.pi)


def hypot(input, other):
    return sqrt(apply(P.add, apply(P.mul, input, input), apply(P.mul, other, other)))


def logaddexp(input, other):
    """log(e^a + e^b) = max(a, b) + log1p(e^-|a - b|)."""
    diff = where(apply(P.eq, input, other), 0.0, apply(P.sub, input, other))
    return apply(P.add, apply(P.maximum, input, other), log1p(exp(apply(P.neg, abs(diff)))))


def logaddexp2(input, other):
    ln2 = math.log(2.0)
    return apply(P.div, logaddexp(apply(P.mul, input, ln2), apply(P.mul, other, ln2)), ln2)


def trunc(input):
    """Rounded toward zero; integers are returned as a copy (gradient 0, as PyTorch)."""
    if input.dtype.category != FLOAT:
        return apply(P.copy, input)
    return where(apply(P.lt, input, 0), ceil(input), floor(input))


fix = trunc


def frac(input):
    return apply(P.sub, input, trunc(input))


def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] first when eps is given."""
    if eps is not None:
        input = apply(P.clamp, input, lo=eps, hi=1.0 - eps)
    return log(apply(P.div, input, apply(P.sub, 1.0, input)))


def xlogy(input, other):
    """x * log(y), with log(y) read as 0 where x == 0 and y is 0 or inf, so 0 * log(0) is 0;
    PyTorch's gradients follow (d/dx is log y except there, d/dy = x / y; at x == 0,
    y == inf, d/dx is 0 where PyTorch's is inf)."""
    if not isinstance(other, Tensor):
        other = tensor(float(other), dtype=input.dtype)
    special = apply(P.logical_or, apply(P.eq, other, 0), apply(P.eq, other, math.inf))
    mask = apply(P.logical_and, apply(P.eq, input, 0), special)
    return apply(P.mul, input, where(mask, 0.0, log(other)))


def sgn(input):
    return apply(P.sign, input)


def signbit(input):
    """True for negative numbers and -0.0 (1 / -0.0 is -inf)."""
    if input.dtype.category != FLOAT:
        return apply(P.lt, input, 0)
    neg_zero = apply(P.logical_and, apply(P.eq, input, 0), apply(P.lt, apply(P.div, 1.0, input), 0))
    return apply(P.logical_or, apply(P.lt, input, 0), neg_zero)


def heaviside(input, values):
    return where(apply(P.eq, input, 0), values,
                 apply(P.cast, apply(P.gt, input, 0), dtype=input.dtype))


def copysign(input, other):
    """|input| with other's sign bit (-0.0 and NaNs' signs included), always a float; the
    gradient to input is sign(input) times that sign, 0 at 0 (PyTorch's)."""
    x = input if input.dtype.category == FLOAT else apply(P.cast, input, dtype=default_float())
    negative = signbit(other) if isinstance(other, Tensor) else math.copysign(1.0, other) < 0
    return apply(P.mul, abs(x), where(negative, -1.0, 1.0) if isinstance(other, Tensor)
                 else (-1.0 if negative else 1.0))


def fmax(input, other):
    """maximum that ignores a NaN operand (NaN only where both are); at a tie the gradient
    goes to input, PyTorch's rule."""
    return where(apply(P.logical_or, apply(P.ge, input, other), apply(P.ne, other, other)),
                 input, other)


def fmin(input, other):
    return where(apply(P.logical_or, apply(P.le, input, other), apply(P.ne, other, other)),
                 input, other)


def float_power(input, exponent):
    """pow in float64, whatever the operands' dtypes."""
    def f64(v):
        return apply(P.cast, v, dtype=float64) if isinstance(v, Tensor) else float(v)
    return apply(P.pow, f64(input), f64(exponent))


arctan, arcsin, arccos = atan, asin, acos
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# -- integer divisors ---------------------------------------------------------------------
def gcd(input, other):
    """The greatest common divisor of integer tensors, never negative; gcd(0, 0) = 0."""
    return apply(P.gcd, input, other)


def lcm(input, other):
    """|input / gcd * other| (0 where either is 0), PyTorch's formula: the division by the
    gcd first, so the product overflows only where the lcm itself does."""
    g = gcd(input, other)
    zero = apply(P.eq, g, 0)
    quotient = apply(P.floor_divide, input, where(zero, 1, g))
    return where(zero, 0, abs(apply(P.mul, quotient, other)))
