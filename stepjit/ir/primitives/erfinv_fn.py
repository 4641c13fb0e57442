"""Scalar erfinv: plain Python over one float, compiled three ways as gamma_fns.py's functions
are (a Numba ufunc for eager, `njit` for CPU kernels, a CUDA device function), so eager and
compiled agree to the last bit on the CPU.

NumPy has no erfinv (and stepjit does not depend on SciPy). The start is Giles' single
precision approximation ("Approximating the erfinv function", GPU Computing Gems, 2011): a
polynomial in w = -log((1 - y)(1 + y)), one for the centre (w < 5) and one in sqrt(w) for the
tails, good to about 1e-7 relative. Two Newton steps on erf(x) = y then take it to float64
rounding (each step squares the relative error). Past |y| = 0.5 four Newton steps solve
log(erfc(x)) = log(1 - |y|) instead: 1 - |y| is exact there, erfc keeps its relative
precision where erf(x) is within an ulp of 1, and the log's slope (about -2x) keeps the steps
well behaved from a start that, past float32's range, is off by up to a tenth. Edges as PyTorch: erfinv(+-1) = +-inf, NaN outside [-1, 1],
erfinv(-0.0) = -0.0. Self-contained (no calls to other Python functions), as Numba's CUDA
device functions need.
"""
from __future__ import annotations

import math

_TWO_OVER_SQRT_PI = 1.1283791670955126


def erfinv(y):
    if not (-1.0 <= y <= 1.0):
        return math.nan
    a = abs(y)
    if a == 1.0:
        return math.copysign(math.inf, y)
    if a == 0.0:
        return y
    w = -math.log((1.0 - a) * (1.0 + a))
    if w < 5.0:
        w = w - 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    x = p * a
    if a <= 0.5:
        for _ in range(2):
            x = x - (math.erf(x) - a) / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
    else:
        # log(erfc(x)) = log(1 - a): its slope, about -2x, stays moderate in the tails
        # (where the start, fitted for float32's range, can be off by a tenth)
        target = math.log(1.0 - a)
        for _ in range(4):
            c = math.erfc(x)
            x = x + (math.log(c) - target) * c / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
    return math.copysign(x, y)
