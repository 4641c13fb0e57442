"""`torch.special`: the special functions training code calls, as the same composites and
primitives stepjit.* uses (expit is sigmoid, logit and xlogy are stepjit.logit/xlogy, ndtr
is the normal CDF through erf, entr is -x log x; gammaln, digamma/psi and polygamma are the
registry's lgamma, digamma and polygamma primitives, multigammaln a sum of lgammas; i0, i0e,
i1, i1e (= modified_bessel_i0/i1), ndtri and erfcx are primitives too, spherical_bessel_j0
sin(x)/x)."""
from __future__ import annotations

import math

from .ops.elementwise import erf, erfc, erfinv, exp, expm1, log1p, sigmoid, where  # noqa: F401
from .ops.elementwise import exp2  # noqa: F401
from .ops.extras import erfcx, i0, i0e, i1, i1e, ndtri, sinc, spherical_bessel_j0  # noqa: F401
from .ops.extras import i0 as modified_bessel_i0, i1 as modified_bessel_i1  # noqa: F401
from .ops.elementwise import digamma, mvlgamma as multigammaln, polygamma  # noqa: F401
from .ops.elementwise import lgamma as gammaln  # noqa: F401
from .ops.mathfns import logit, xlogy  # noqa: F401
from .ops.reduce import log_softmax, logsumexp, softmax  # noqa: F401

expit = sigmoid
psi = digamma


def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0."""
    return where(input == 0, 0.0, input * log1p(other))


def ndtr(input):
    return (erf(input * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5


def log_ndtr(input):
    """log of the normal CDF; for very negative x through erfc, which keeps its digits."""
    return (erfc(-input * (1.0 / math.sqrt(2.0))) * 0.5).log()


def entr(input):
    """-x log x for x > 0, 0 at 0, -inf below."""
    return where(input > 0, -xlogy(input, input), where(input == 0, 0.0, -math.inf))


def round(input, decimals=0):
    if decimals == 0:
        return input.round()
    scale = 10.0 ** decimals
    return (input * scale).round() / scale
