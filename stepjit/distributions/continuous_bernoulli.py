"""ContinuousBernoulli(probs | logits) on [0, 1]: density C(p) p^x (1 - p)^(1 - x), the
Bernoulli likelihood made a proper density (VAEs on [0, 1] pixels), with PyTorch's numerics.

The normalizer log C(p) = log |log(1 - p) - log p| - log |1 - 2p| and the moments divide by
(1 - 2p), so near p = 1/2 (inside PyTorch's `lims`, (0.499, 0.501) by default) they use
their Taylor series in (p - 1/2) instead, and the closed forms are evaluated at a safe p
there (both branches of a `where` are computed, so neither may produce NaN gradients):
  log C  = log 2 + (4/3 + 104/45 x) x,            x = (p - 1/2)^2
  mean   = 1/2 + (1/3 + 16/45 y^2) y,             y = p - 1/2
  var    = 1/12 - (1/15 - 128/945 x) x
Samples are the inverse CDF of uniform draws, so rsample keeps the gradient.
"""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.creation import rand
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import BinaryProbs, broadcast_all, clamp_probs, lazy_property, logits_to_probs


class ContinuousBernoulli(BinaryProbs, Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            if validate_args is not None and not bool(
                    self.arg_constraints["probs"].check(param).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(param)
        else:
            self.logits = param
        self._param = self.probs if probs is not None else param
        self._lims = lims
        batch = Size() if not isinstance(given, Tensor) else Size(param.shape)
        super().__init__(batch, validate_args=validate_args)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _stable(self):
        """Where the closed forms are used: p outside (lims[0], lims[1]]."""
        p = self.probs
        return (p <= self._lims[0]) | (p > self._lims[1])

    def _safe_probs(self):
        return self.probs.where(self._stable(), self._lims[0])

    def _log_norm(self):
        c = self._safe_probs()
        below = c.where(c <= 0.5, 0.0)
        above = c.where(c >= 0.5, 1.0)
        closed = ((-c).log1p() - c.log()).abs().log() - (
            (-2.0 * below).log1p().where(c <= 0.5, (2.0 * above - 1.0).log()))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return closed.where(self._stable(), taylor)

    @property
    def mean(self):
        c = self._safe_probs()
        closed = c / (2.0 * c - 1.0) + 1.0 / ((-c).log1p() - c.log())
        y = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * y.pow(2)) * y
        return closed.where(self._stable(), taylor)

    @property
    def variance(self):
        c = self._safe_probs()
        closed = c * (c - 1.0) / (1.0 - 2.0 * c).pow(2) + 1.0 / ((-c).log1p() - c.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return closed.where(self._stable(), taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    def rsample(self, sample_shape=Size()):
        u = rand(tuple(self._extended_shape(sample_shape)), dtype=self.probs.dtype)
        return self.icdf(u)

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + \
            self._log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self._safe_probs()
        closed = (c.pow(value) * (1.0 - c).pow(1.0 - value) + c - 1.0) / (2.0 * c - 1.0)
        inside = closed.where(self._stable(), value)
        return inside.where(value > 0.0, 0.0).where(value < 1.0, 1.0)

    def icdf(self, value):
        c = self._safe_probs()
        closed = ((-c + value * (2.0 * c - 1.0)).log1p() - (-c).log1p()) / (
            c.log() - (-c).log1p())
        return closed.where(self._stable(), value)

    def entropy(self):
        log_p0 = (-self.probs).log1p()
        log_p1 = self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._log_norm() - log_p0
