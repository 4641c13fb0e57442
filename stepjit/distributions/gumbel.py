"""Gumbel(loc, scale): rsample loc - scale * log(-log u), u uniform on [tiny, 1 - eps] (the
transforms PyTorch composes, applied directly); density and moments as PyTorch's."""
from __future__ import annotations

import math

from ..dtype_info import finfo
from ..ops.creation import rand
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all

EULER = 0.57721566490153286060


class Gumbel(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(batch_shape_of([loc, scale], self.loc), validate_args=validate_args)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        info = finfo(self.loc.dtype)
        u = rand(tuple(shape), dtype=self.loc.dtype).clamp(min=info.tiny, max=1 - info.eps)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value):
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    @property
    def mean(self):
        return self.loc + self.scale * EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + EULER)
