"""The Distribution base: batch/event shapes, argument checks, and sample via rsample."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..tensor import Size, Tensor


class Distribution:
    has_rsample = False
    _validate_default = True

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample")

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        params = ", ".join(f"{k}: {tuple(v.shape) if isinstance(v, Tensor) else v}"
                           for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self):
        return {}


def as_float_tensor(x, like=None):
    """A number or tensor argument as a floating tensor (numbers take `like`'s dtype)."""
    from ..ops.creation import tensor
    if isinstance(x, Tensor):
        return x if x.is_floating_point() else x.float()
    dtype = like.dtype if isinstance(like, Tensor) and like.is_floating_point() else None
    return tensor(float(x), dtype=dtype)
