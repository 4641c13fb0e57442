"""A distribution folded at zero: |x| for x from a base centred at 0 (HalfNormal from Normal,
HalfCauchy from Cauchy, as PyTorch builds them). Its density is the base's doubled on x >= 0
(log_prob + log 2, -inf below), its cdf 2 F(x) - 1, its quantile F^-1((p + 1) / 2), its entropy
the base's less log 2; each subclass names its base and gives its own moments."""
from __future__ import annotations

import math

from ..ops.creation import zeros_like
from ..tensor import Size
from . import constraints
from .distribution import Distribution


class FoldedAtZero(Distribution):
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base = None      # the base distribution's class, (loc, scale) -> distribution

    def __init__(self, scale, validate_args=None):
        self.base_dist = self.base(0, scale, validate_args=False)
        self.scale = self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    @property
    def mode(self):
        return zeros_like(self.scale)

    def rsample(self, sample_shape=Size()):
        return self.base_dist.rsample(sample_shape).abs()

    def sample(self, sample_shape=Size()):
        return self.base_dist.sample(sample_shape).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return log_prob.where(value >= 0, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
