"""Normal(loc, scale), with the reparameterized rsample a VAE's sampling needs."""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..ops.creation import normal, randn
from ..ops.shape import broadcast_tensors
from ..tensor import Size
from .distribution import Distribution, as_float_tensor


class Normal(Distribution):
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc = as_float_tensor(loc, scale)
        scale = as_float_tensor(scale, loc)
        self.loc, self.scale = broadcast_tensors(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() \
            - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())
