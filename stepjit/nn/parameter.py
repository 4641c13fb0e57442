"""`nn.Parameter`: a Tensor subclass that a Module registers as a learnable weight.

A Parameter is an ordinary leaf Tensor (every op, the dispatcher and autograd
treat it as one) whose type marks it for `Module.__setattr__`. Like PyTorch,
`Parameter(t)` shares t's storage and version counter: it is a new leaf over
the same data, not a copy. Ops on a Parameter return plain Tensors, because
the dispatcher builds results with `Tensor._make`.
"""
from __future__ import annotations

from ..ops.creation import empty
from ..tensor import Tensor


class Parameter(Tensor):
    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = cls._make(data._data)
        p._version = data._version  # same storage, so in-place writes are seen by both
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad=True):
        # Everything happened in __new__; Tensor.__init__ would rebuild the storage.
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
