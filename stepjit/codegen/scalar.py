"""Scalar helpers that generated kernels call, for primitives whose `expr` names a function.

They are written once here (jitted) rather than spelled out in every kernel.
Each mirrors its primitive's NumPy impl in the registry.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..ir.primitives import erfinv_fn, gamma_fns, special_fns
from .diskcache import numba_locator

numba_locator(__file__)   # before the first cache=True function (read-only install, no HOME)


@njit(error_model="numpy", cache=True)
def sigmoid(x):
    # The registry's impl: exp of a non-positive number only, so neither branch overflows.
    e = math.exp(-abs(x))
    if x >= 0:
        return 1.0 / (1.0 + e)
    return e / (1.0 + e)


@njit(error_model="numpy", cache=True)
def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0  # 0, -0.0 and nan (PyTorch's sign(nan) is 0)


@njit(error_model="numpy", cache=True)
def maximum(x, y):
    # np.maximum: a NaN operand is the result (Python's max(x, nan) is x), and of two equal
    # values the first (max(-0.0, 0.0) is -0.0, as NumPy's and PyTorch's)
    if x != x:
        return x
    if y != y:
        return y
    return x if x >= y else y


@njit(error_model="numpy", cache=True)
def minimum(x, y):
    if x != x:
        return x
    if y != y:
        return y
    return x if x <= y else y


@njit(error_model="numpy", cache=True)
def round_half_even(x):
    r = math.floor(x)
    d = x - r
    if d > 0.5 or (d == 0.5 and r % 2 == 1):
        r += 1
    return r


@njit(error_model="numpy", cache=True)
def clamp_lo(x, lo):
    return lo if x < lo else x


@njit(error_model="numpy", cache=True)
def clamp_hi(x, hi):
    return hi if x > hi else x


__all__ = ["sigmoid", "sign", "maximum", "minimum", "round_half_even", "clamp_lo", "clamp_hi",
           "np", "math"]


@njit(error_model="numpy", cache=True)
def clamp(x, lo, hi):
    if lo is not None and x < lo:
        x = lo
    if hi is not None and x > hi:
        x = hi
    return x


__all__.append("clamp")


# digamma and polygamma: the registry's eager impls vectorize these same functions
digamma = njit(error_model="numpy", cache=True)(gamma_fns.digamma)
polygamma = njit(error_model="numpy", cache=True)(gamma_fns.polygamma)
__all__ += ["digamma", "polygamma"]
erfinv = njit(error_model="numpy", cache=True)(erfinv_fn.erfinv)
__all__.append("erfinv")
# modified Bessel I0/I1 (and scaled), ndtri, erfcx: the functions the eager ufuncs vectorize
bessel_i, ndtri, erfcx = (njit(error_model="numpy", cache=True)(getattr(special_fns, n))
                          for n in ("bessel_i", "ndtri", "erfcx"))
__all__ += ["bessel_i", "ndtri", "erfcx"]


# Shifts as NumPy's (npy_lshift, npy_rshift) and PyTorch's: an amount outside [0, 64) shifts
# everything out (a right shift keeps the sign). Operands reach a kernel as int64 or wider
# (Numba promotes narrower integers), so 64 is the width to test; the caller's store wraps
# the result to the tensor's dtype.
@njit(error_model="numpy", cache=True)
def left_shift(x, y):
    if y < 0 or y >= 64:
        return x * 0
    return x << y


@njit(error_model="numpy", cache=True)
def right_shift(x, y):
    if y < 0 or y >= 64:
        return x >> 63
    return x >> y


__all__ += ["left_shift", "right_shift"]


# np.gcd's (and PyTorch's) greatest common divisor: Euclid's algorithm on the magnitudes, so
# the result is never negative and gcd(0, 0) is 0.
@njit(error_model="numpy", cache=True)
def gcd(x, y):
    a, b = abs(x), abs(y)
    while b != 0:
        a, b = b, a % b
    return a


__all__ += ["gcd"]
