"""Parameter plumbing shared by the distributions: broadcasting, probs <-> logits."""
from __future__ import annotations

from ..dtype_info import finfo
from ..ir.types import default_float
from ..ops.creation import tensor
from ..tensor import Size, Tensor


def broadcast_all(*values):
    """Tensors (numbers become tensors of the others' dtype) broadcast to one shape."""
    ref = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = ref.dtype if ref is not None else default_float()
    ts = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype) for v in values]
    import numpy as np
    shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in ts)))
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in ts)


def batch_shape_of(given, param):
    """PyTorch's rule: parameters all given as numbers make a scalar distribution."""
    if all(not isinstance(g, Tensor) for g in given):
        return Size()
    return Size(param.shape)


def clamp_by_zero(x):
    """max(x, 0) whose gradient at 0 is 1/2 (PyTorch's binomial normalizer)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def clamp_probs(probs):
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


class lazy_property:
    """Computed on first read and then stored on the instance (probs from logits and back)."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.fn.__name__] = value
        return value


class BinaryProbs:
    """`probs` and `logits` of a two-outcome parameter (Bernoulli, Binomial, Geometric,
    NegativeBinomial, LogitRelaxedBernoulli): __init__ sets the one given, and the other is
    computed from it on first read."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

