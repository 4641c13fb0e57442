"""Gamma, Beta and Dirichlet: densities, entropies and moments as PyTorch writes them (with
the registry's lgamma and digamma, so their gradients flow eagerly and compiled), and
sampling from stepjit's generator.

Sampling. A standard gamma draw is Marsaglia and Tsang's rejection method written as a
fixed-size composite, so a compiled step runs it like any other op: `PROPOSALS` candidate
pairs (z normal, u uniform) per element, the first accepted candidate taken (argmax over
the acceptance mask). Each candidate is accepted with probability >= 0.95 (d >= 2/3), so all
eight are rejected with probability below 1e-10; the last candidate is then used. A
concentration below 1 draws for concentration + 1 and multiplies by u^(1/concentration).
The numbers are not PyTorch's (its generator and algorithm differ), only their law.

Gradients. `rsample` of a Gamma carries the exact gradient with respect to `rate` (the draw
is standard_gamma / rate); the implicit reparameterization gradient with respect to the
concentration that PyTorch computes is not provided, and asking for it raises. Beta and
Dirichlet `rsample` likewise refuse a concentration that requires grad.
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..dtype_info import finfo
from ..ops.creation import rand, randn
from ..ops.elementwise import digamma, lgamma
from ..ops.mathfns import xlogy
from ..ops.shape import stack
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

PROPOSALS = 8


def standard_gamma(concentration, shape):
    """Gamma(concentration, 1) draws of `shape` (concentration broadcast to it), no gradient."""
    with no_grad():
        alpha = concentration.detach().expand(*shape)
        boosted = alpha + (alpha < 1).to(alpha.dtype)
        d = boosted - 1.0 / 3.0
        c = (9.0 * d).rsqrt()
        z = randn(PROPOSALS, *shape, dtype=alpha.dtype)
        u = rand(PROPOSALS, *shape, dtype=alpha.dtype)
        v = (1.0 + c * z) ** 3
        accept = (v > 0) & (u.log() < 0.5 * z * z + d - d * v + d * v.log())
        accept[-1] = True       # (all rejected: probability < 1e-10; take the last)
        first = accept.to(alpha.dtype).argmax(0, keepdim=True)
        x = (d * v).gather(0, first).squeeze(0)
        boost = rand(*shape, dtype=alpha.dtype) ** (1.0 / alpha)
        return (x * boost.where(alpha < 1, 1.0)).clamp_min(finfo(alpha.dtype).tiny)


def _no_concentration_grad(name, concentration):
    if isinstance(concentration, Tensor) and concentration.requires_grad:
        raise NotImplementedError(
            f"{name}.rsample: the reparameterized gradient with respect to the concentration "
            "is not provided by stepjit (PyTorch's implicit gradient); detach it, or use "
            "log_prob with a score-function estimator")


class Gamma(Distribution):
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch = Size() if not isinstance(concentration, Tensor) and \
            not isinstance(rate, Tensor) else Size(self.concentration.shape)
        super().__init__(batch, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        _no_concentration_grad("Gamma", self.concentration)
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration, shape) / self.rate.expand(*shape)

    def sample(self, sample_shape=Size()):
        with no_grad():
            shape = self._extended_shape(sample_shape)
            return standard_gamma(self.concentration, shape) / self.rate.detach().expand(*shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration, self.rate
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - lgamma(a)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1.0 - a) * digamma(a)


class Dirichlet(Distribution):
    arg_constraints = {"concentration": constraints.independent_positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(Size(shape[:-1]), Size(shape[-1:]), validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        k = self.concentration.shape[-1]
        return ((self.concentration - 1).clamp(min=0.0)
                / (self.concentration.sum(-1, keepdim=True) - k))

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        _no_concentration_grad("Dirichlet", self.concentration)
        return self.sample(sample_shape)

    def sample(self, sample_shape=Size()):
        with no_grad():
            g = standard_gamma(self.concentration, self._extended_shape(sample_shape))
            return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1))

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return (lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((a - 1.0) * digamma(a)).sum(-1))


class Beta(Distribution):
    """A Dirichlet over (x, 1 - x), as PyTorch builds it."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=validate_args)
        batch = Size() if not isinstance(concentration1, Tensor) and \
            not isinstance(concentration0, Tensor) else Size(c1.shape)
        super().__init__(batch, validate_args=validate_args)

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        _no_concentration_grad("Beta", self._dirichlet.concentration)
        return self.sample(sample_shape)

    def sample(self, sample_shape=Size()):
        return self._dirichlet.sample(sample_shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

