"""Categorical over the last dimension of `probs` (normalized) or `logits` (log-normalized)."""
from __future__ import annotations

from ..ir.types import finfo
from ..ops.creation import multinomial
from ..ops.shape import broadcast_tensors
from ..tensor import Size
from .distribution import Distribution


class Categorical(Distribution):
    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = finfo(self.probs.dtype).eps
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1], Size(), validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        raise NotImplementedError("Categorical has no mean")

    def sample(self, sample_shape=Size()):
        shape = Size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = multinomial(probs_2d, max(shape.numel(), 1), True).T
        if shape.numel() == 0:
            samples_2d = samples_2d[:0]
        return samples_2d.reshape(self._extended_shape(shape))

    def log_prob(self, value):
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)
