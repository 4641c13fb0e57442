"""VonMises(loc, concentration): a circular distribution of angles (radians, any real value).

The normalizer log I0(kappa) (and I1 for the variance) is the polynomial approximation of
Abramowitz and Stegun 9.8.1-9.8.4, one polynomial below kappa = 3.75 and one above, as
PyTorch evaluates it, so densities agree with PyTorch's bit for bit in form and gradients
flow to both parameters. Sampling is Best and Fisher's rejection scheme (1979), drawn in
float64 under no_grad from the generator's uniforms, each element redrawing until accepted;
there is no rsample (PyTorch has none).
"""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..ops.creation import rand, zeros
from ..ops.elementwise import where
from ..tensor import Size
from ..ir.types import float64
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all

# I0(x) ~ small(y = (x / 3.75)^2) for x < 3.75; I0(x) ~ exp(x) / sqrt(x) large(3.75 / x) else;
# I1 likewise with x * small(y).
_SMALL = ((1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
          (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3))
_LARGE = ((0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1,
           0.2635537e-1, -0.1647633e-1, 0.392377e-2),
          (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
           -0.2895312e-1, 0.1787654e-1, -0.420059e-2))


def _horner(y, coef):
    out = coef[-1]
    for c in reversed(coef[:-1]):
        out = c + y * out
    return out


def log_bessel_i(x, order):
    """log I_order(x) for x > 0, order 0 or 1 (the approximation above)."""
    y = x / 3.75
    small = _horner(y * y, _SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _horner(3.75 / x, _LARGE[order]).log()
    return where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(batch_shape_of([loc, concentration], self.loc),
                         validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(2 * math.pi) - log_bessel_i(k, 0)

    @property
    def mean(self):
        """The circular mean."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance, 1 - I1(kappa) / I0(kappa)."""
        k = self.concentration
        return 1 - (log_bessel_i(k, 1) - log_bessel_i(k, 0)).exp()

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape)
        return VonMises(self.loc.expand(*shape), self.concentration.expand(*shape),
                        validate_args=self.__dict__.get("_validate_args"))

    def sample(self, sample_shape=Size()):
        with no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            loc = self.loc.to(float64).expand(*shape)
            kappa = self.concentration.to(float64).expand(*shape)
            r = _proposal_r(kappa)
            x = zeros(shape, dtype=float64)
            done = zeros(shape, dtype=float64) > 0
            while not bool(done.all()):
                u1, u2, u3 = rand((3,) + shape, dtype=float64).unbind(0)
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                accept = accept & done.logical_not()
                x = where(accept, (u3 - 0.5).sign() * f.acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)


def _proposal_r(kappa):
    """Best and Fisher's envelope parameter (its Taylor form for tiny kappa)."""
    tau = 1 + (1 + 4 * kappa ** 2).sqrt()
    rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
    return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
