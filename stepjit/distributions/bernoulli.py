"""Bernoulli(probs or logits): 1 with probability probs."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..ir.types import finfo
from ..nn import functional as F
from ..ops.creation import bernoulli
from ..tensor import Size
from .distribution import Distribution, as_float_tensor


class Bernoulli(Distribution):
    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = as_float_tensor(probs)
            eps = finfo(self.probs.dtype).eps
            p = self.probs.clamp(min=eps, max=1 - eps)
            self.logits = p.log() - (-p).log1p()
        else:
            self.logits = as_float_tensor(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape, Size(), validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        logits, value = self.logits, value
        return -F.binary_cross_entropy_with_logits(logits.expand(value.shape) if
                                                   logits.shape != value.shape else logits,
                                                   value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
