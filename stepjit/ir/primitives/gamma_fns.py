"""Scalar digamma and polygamma: plain Python over one float, which Numba compiles three ways.

NumPy has neither function (and stepjit does not depend on SciPy), so the eager impls are
`numba.vectorize`d from these functions (elementwise.py, made on first use), the CPU kernels
call the same functions `njit`ed (codegen/scalar.py) and CUDA kernels call them as device
functions: one algorithm, so eager and compiled agree to the last bit on the CPU.

The algorithms are PyTorch's (ATen's calc_digamma, calc_trigamma and zeta, from Cephes):
digamma by the recurrence psi(x) = psi(x + 1) - 1/x up to 10 and the asymptotic series, with
the reflection formula for negative x; trigamma (polygamma(1, x)) by recurrence and its
asymptotic series; polygamma(n, x) for n >= 2 as (-1)^(n+1) n! zeta(n + 1, x), the Hurwitz
zeta function by Euler-Maclaurin summation. Each function is self-contained (no calls to
other Python functions), as Numba's CUDA device functions need.
"""
from __future__ import annotations

import math

_PSI_10 = 2.25175258906672110764       # digamma(10)
_EULER = 0.57721566490153286061        # -digamma(1)
# Coefficients of the asymptotic series of digamma, highest power first (Cephes' A)
_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)
# Euler-Maclaurin coefficients of the Hurwitz zeta function: (2k)! / B_2k
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042e-16
# Every float at or past 2^52 in magnitude (and inf) is an integer. Tested first: Numba's
# math.floor returns an int64, which overflows past 2^63 (x == floor(x) then fails, and the
# zeta sum's `a += 1` never moves a huge a: an endless loop).
_ALL_INTEGERS = 4503599627370496.0


def digamma(x):
    if x == 0.0:
        return math.copysign(math.inf, -x)     # PyTorch: -inf at +0, +inf at -0
    if x < 0.0:
        if x <= -_ALL_INTEGERS or x == math.floor(x):
            return math.nan
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi x), pi x reduced to its fraction
        r = x - math.trunc(x)
        shift = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    else:
        shift = 0.0
    if x == 1.0:
        return shift - _EULER
    result = shift
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x == 10.0:
        return result + _PSI_10
    y = 0.0
    if x < 1.0e17:
        z = 1.0 / (x * x)
        p = 0.0
        for c in _PSI_A:
            p = p * z + c
        y = z * p
    return result + math.log(x) - 0.5 / x - y


def polygamma(x, n):
    """The n-th derivative of digamma, n >= 1."""
    if n == 1:
        sign = 1.0
        result = 0.0
        if x < 0.5:
            sign = -1.0
            s = math.sin(math.pi * x)
            result -= (math.pi * math.pi) / (s * s)
            x = 1.0 - x
        for _ in range(6):
            result += 1.0 / (x * x)
            x += 1.0
        ixx = 1.0 / (x * x)
        result += (1.0 + 1.0 / (2.0 * x)
                   + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)))) / x
        return sign * result
    s_ord = n + 1.0                      # zeta(n + 1, x), times (-1)^(n+1) n!
    factor = math.exp(math.lgamma(n + 1.0))
    if n % 2 == 0:
        factor = -factor
    if x <= 0.0 and (x <= -_ALL_INTEGERS or x == math.floor(x)):
        return factor * math.inf         # (a negative non-integer x sums as any other)
    total = x ** -s_ord
    a = x
    b = 0.0
    i = 0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -s_ord
        total += b
        if abs(b / total) < _MACHEP:
            return factor * total
    w = a
    total += b * w / (s_ord - 1.0)
    total -= 0.5 * b
    a = 1.0
    k = 0.0
    for c in _ZETA_A:
        a *= s_ord + k
        b /= w
        t = a * b / c
        total += t
        if abs(t / total) < _MACHEP:
            break
        k += 1.0
        a *= s_ord + k
        b /= w
        k += 1.0
    return factor * total
