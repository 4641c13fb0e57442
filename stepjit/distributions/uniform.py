"""Uniform(low, high) on [low, high)."""
from __future__ import annotations

from ..ops.creation import rand
from ..ops.shape import broadcast_tensors
from ..tensor import Size
from .distribution import Distribution, as_float_tensor


class Uniform(Distribution):
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        low = as_float_tensor(low, high)
        high = as_float_tensor(high, low)
        self.low, self.high = broadcast_tensors(low, high)
        super().__init__(self.low.shape, Size(), validate_args)

    def _params(self):
        return {"low": self.low, "high": self.high}

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = rand(*shape, dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        inside = (value >= self.low) & (value < self.high)
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def entropy(self):
        return (self.high - self.low).log()
