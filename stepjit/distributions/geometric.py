"""Geometric(probs or logits): the number of failures before the first success, on
{0, 1, ...}; sample floor(log u / log1p(-p)) from one uniform, as PyTorch draws it."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..dtype_info import finfo
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.creation import rand, zeros_like
from ..tensor import Size
from . import constraints
from .distribution import Distribution, _is_concrete
from .utils import BinaryProbs, batch_shape_of, broadcast_all


class Geometric(BinaryProbs, Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        super().__init__(batch_shape_of([given], param), validate_args=validate_args)
        if self._validate_args and probs is not None and _is_concrete(param):
            valid = param.detach() > 0
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter probs (Tensor of shape {tuple(param.shape)}) of "
                    f"distribution {self!r} to be positive but found invalid values:\n"
                    f"{param.detach()[~valid]}")

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.detach()
            u = rand(tuple(shape), dtype=probs.dtype).clamp(min=finfo(probs.dtype).tiny)
            return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # (a certain success: 0 * log(0) is 0 for the value 0)
        probs = probs.masked_fill((probs == 1) & (value == 0), 0.0)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction="none") / self.probs
