"""Poisson(rate): counts from `stepjit.poisson` (no gradient, as PyTorch), log_prob
value * log(rate) - rate - lgamma(value + 1)."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..ops.elementwise import lgamma
from ..ops.mathfns import xlogy
from ..ops.sampling import poisson
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all


class Poisson(Distribution):
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(batch_shape_of([rate], self.rate), validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return poisson(self.rate.expand(*shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)
