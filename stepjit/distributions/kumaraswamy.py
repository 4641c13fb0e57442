"""Kumaraswamy(concentration1 = a, concentration0 = b) on (0, 1): (1 - u^(1/b))^(1/a) for
u ~ Uniform(0, 1), as PyTorch builds it (a TransformedDistribution), so rsample keeps the
gradient. Moments through lgamma: E[x^n] = b B(1 + n/a, b)."""
from __future__ import annotations

import math

from ..ops.creation import full_like
from ..ops.elementwise import digamma, lgamma
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all

_EULER = 0.57721566490153286061


def _moment(a, b, n):
    first = 1 + n / a
    return b * (lgamma(first) + lgamma(b) - lgamma(first + b)).exp()


class Kumaraswamy(TransformedDistribution):
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(full_like(self.concentration0, 0), full_like(self.concentration0, 1),
                       validate_args=validate_args)
        transforms = [PowerTransform(self.concentration0.reciprocal()),
                      AffineTransform(1.0, -1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self):
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def variance(self):
        return _moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    @property
    def mode(self):
        """((a - 1) / (a b - 1))^(1/a), NaN where a < 1 or b < 1 (no interior mode)."""
        a, b = self.concentration1, self.concentration0
        mode = ((a - 1) / (a * b - 1)).pow(a.reciprocal())
        return mode.where((a >= 1) & (b >= 1), math.nan)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        h_b = digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * h_b - a.log() - b.log()
