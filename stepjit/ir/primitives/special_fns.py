"""Scalar modified Bessel functions I0, I1 (and their exponentially scaled forms), the
inverse of the normal CDF (ndtri) and the scaled complementary error function (erfcx):
plain Python over one float, which Numba compiles for the eager ufuncs, the CPU kernels and
CUDA device functions (as gamma_fns.py). Each function is self-contained (no calls to other
Python functions), as CUDA device functions need; bessel_i(x, n, scaled) serves all four.

Algorithms (written for stepjit, accurate to a few ulps in float64):
  I0, I1   the power series sum (x/2)^(2k+n) / (k! (k+n)!) for |x| <= 30, summed until a
           term stops changing the sum; past 30 Hankel's asymptotic expansion
           e^x / sqrt(2 pi x) * sum_k (-1)^k a_k(nu) / x^k, a_k = prod_{j<=k} (4nu^2 - (2j-1)^2)
           / (k! 8^k), whose smallest term there is below 1e-25. The scaled forms multiply by
           e^-|x| (series) or drop the e^x (expansion), so they never overflow.
  ndtri    Abramowitz & Stegun 26.2.23's rational start, then Newton steps on
           Phi(x) = erfc(-x / sqrt 2) / 2 in the lower half (p <= 1/2, where erfc is relatively
           accurate), on log Phi by its asymptotic series below p = 1e-200 (erfc's subnormal
           results lose digits); the upper half by symmetry, 1 - p being exact there.
  erfcx    exp(x^2) erfc(x) for x < 10 (erfc keeps its relative accuracy, exp(x^2) does not
           overflow yet); past 10 the asymptotic series 1/(x sqrt pi) sum (-1)^k (2k-1)!! /
           (2x^2)^k; below -26.6 it overflows to inf, as PyTorch's.
"""
from __future__ import annotations

import math

_SERIES_MAX = 30.0
_EPS = 1.1102230246251565e-16


def bessel_i(x, n, scaled):
    """I_n(x) for n in {0.0, 1.0}; times e^-|x| when scaled."""
    a = abs(x)
    if a == math.inf:
        r = 0.0 if scaled else math.nan      # (PyTorch's I0(inf), I1(inf): nan)
    elif a <= _SERIES_MAX:
        h = a * 0.5
        q = h * h
        term = 1.0 if n == 0.0 else h
        r = term
        k = 1.0
        while term > r * _EPS:
            term *= q / (k * (k + n))
            r += term
            k += 1.0
        if scaled:
            r *= math.exp(-a)
    else:
        mu = 4.0 * n * n
        term = 1.0
        total = 1.0
        k = 1.0
        while k < 60.0 and abs(term) > abs(total) * _EPS:
            term *= -(mu - (2.0 * k - 1.0) ** 2) / (k * 8.0 * a)
            total += term
            k += 1.0
        r = total * (0.3989422804014327 / math.sqrt(a))     # 1/sqrt(2 pi a), no overflow
        if not scaled:
            r *= math.exp(a)
    return -r if (n == 1.0 and x < 0.0) else r


def ndtri(p):
    if p != p or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p == 0.5:
        return 0.0
    upper = p > 0.5
    q = 1.0 - p if upper else p            # exact for p > 1/2 (Sterbenz)
    t = math.sqrt(-2.0 * math.log(q))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
          / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    if q < 1e-200:
        # far tail (x < -30), where erfc's subnormal results lose digits: Newton on
        # log Phi(x) = -x^2/2 - log sqrt(2 pi) - log(-x) + log(1 - 1/x^2 + 3/x^4 - ...)
        lq = math.log(q)
        for _ in range(40):
            u = 1.0 / (x * x)
            series = 1.0 - u * (1.0 - 3.0 * u * (1.0 - 5.0 * u * (1.0 - 7.0 * u * (1.0 - 9.0 * u))))
            logcdf = -0.5 * x * x - 0.9189385332046727 - math.log(-x) + math.log(series)
            step = (logcdf - lq) / (-x - 1.0 / x)
            x -= step
            if abs(step) <= abs(x) * _EPS:
                break
        return -x if upper else x
    for _ in range(6):
        cdf = 0.5 * math.erfc(-x / math.sqrt(2.0))
        pdf = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        if pdf == 0.0:
            break
        step = (cdf - q) / pdf
        x -= step
        if abs(step) <= abs(x) * _EPS:
            break
    return -x if upper else x


def erfcx(x):
    if x != x:
        return x
    if x < 10.0:
        if x < -26.7:
            return math.inf
        return math.exp(x * x) * math.erfc(x)
    if x == math.inf:
        return 0.0
    z = 1.0 / (2.0 * x * x)
    term = 1.0
    total = 1.0
    k = 1.0
    while k < 40.0:
        term *= -(2.0 * k - 1.0) * z
        total += term
        if abs(term) <= total * _EPS:
            break
        k += 1.0
    return total / x / math.sqrt(math.pi)     # (x sqrt(pi) would overflow near the max)
