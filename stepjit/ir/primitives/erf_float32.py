"""float32 erf from two polynomials, as NumPy array code (the eager impl) and the coefficients
codegen/vmath.py's vectorizable `verf` evaluates in compiled loops: one algorithm, so eager and
compiled float32 erf agree (to an ulp where NumPy's and vmath's float64 exp differ).

|x| < 1: x P(x^2); 1 <= |x| < 4: 1 - exp(-x^2) Q(1/|x|) (Q approximates exp(x^2) erfc(x), smooth
there); past 4, +-1 (float32's erf is 1 from 3.92). Computed in float64 and rounded. P (degree 7
in x^2) and Q (degree 11) are least-squares fits to math.erf / math.erfc in float64 on 4000
Chebyshev nodes: relative error 4e-11 for P, 2e-10 for Q, far below half a float32 ulp, so the
result is math.erf's value rounded to float32 or the float32 next to it (tests/codegen/
test_vmath.py checks every binade and [-5, 5] against math.erf). NumPy has no erf; this needs
no Numba, so an eager float32 erf (GELU's) does not import it.
"""
from __future__ import annotations

import numpy as np

P = (1.128379167082285, -0.37612638590433234, 0.11283784111868463, -0.02686551744602671,
     0.005221261499984139, -0.0008487267794721377, 0.00011288175233836792,
     -9.728409813433023e-06)
Q = (-1.1639007455853912e-05, 0.5645722733260354, -0.005565091225738575,
     -0.23467706065430105, -0.26263040738798515, 1.4051612246583896, -2.446406271206937,
     2.598262783854697, -1.834052835804216, 0.8467909088595107, -0.23288268521451325,
     0.029022376026061038)


def _horner(coefficients, t):
    acc = np.full_like(t, coefficients[-1])
    for c in coefficients[-2::-1]:
        acc *= t
        acc += c
    return acc


def erf_float32(x):
    """erf of a float32 array (or scalar), as float32."""
    with np.errstate(all="ignore"):     # the branch a lane does not take may overflow
        return _erf(np.asarray(x, np.float64))


def _erf(xd):
    a = np.abs(xd)
    small = xd * _horner(P, xd * xd)
    ac = np.clip(a, 1.0, 4.0)             # the big branch's own range: no 1/0
    big = 1.0 - np.exp(-ac * ac) * _horner(Q, 1.0 / ac)
    big = np.where(a < 4.0, big, 1.0)
    y = np.where(a < 1.0, small, np.where(xd < 0.0, -big, big))
    return np.where(np.isnan(xd), xd, y).astype(np.float32)
