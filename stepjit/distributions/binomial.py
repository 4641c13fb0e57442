"""Binomial(total_count, probs or logits): draws from `stepjit.binomial` (no gradient, as in
PyTorch); log_prob with lgamma and PyTorch's stable normalizer; entropy and
enumerate_support over 0..total_count (one shared count, as PyTorch requires)."""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..dispatch import concrete
from ..ops.creation import arange
from ..ops.elementwise import lgamma
from ..ops.sampling import binomial
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import BinaryProbs, broadcast_all, clamp_by_zero


class Binomial(BinaryProbs, Distribution):
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        count, param = broadcast_all(total_count, given)
        self.total_count = count.to(param.dtype)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        super().__init__(Size(param.shape), validate_args=validate_args)

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return binomial(self.total_count.detach().expand(*shape),
                            self.probs.detach().expand(*shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        normalize = (n * clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p()
                     - lgamma(n + 1))
        return value * logits - lgamma(value + 1) - lgamma(n - value + 1) - normalize

    def entropy(self):
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def _shared_count(self, what):
        counts = np.asarray(concrete(self.total_count.detach(), "value"))
        if counts.size and counts.min() != counts.max():
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return int(counts.max()) if counts.size else 0

    def enumerate_support(self, expand=True):
        total = self._shared_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand(-1, *self._batch_shape)
        return values
