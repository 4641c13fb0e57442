"""`nn.Parameter`: a Tensor subclass that a Module registers as a learnable weight; `nn.Buffer`,
the mark that makes an assigned tensor a buffer.

A Parameter is an ordinary leaf Tensor (every op, the dispatcher and autograd
treat it as one) whose type marks it for `Module.__setattr__`. Like PyTorch,
`Parameter(t)` shares t's storage and version counter: it is a new leaf over
the same data, not a copy. Ops on a Parameter return plain Tensors, because
the dispatcher builds results with `Tensor._make`.
"""
from __future__ import annotations

import numpy as np

from .. import dispatch
from ..errors import EagerFirst
from ..ir.types import as_dtype, default_float
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


class _BufferMeta(type):
    """isinstance(t, Buffer) holds for the tensor Buffer(...) returned (a plain Tensor marked
    as a buffer), as PyTorch's metaclass makes it hold."""

    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and \
                getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """`self.name = nn.Buffer(t, persistent=...)` registers t as a buffer, as
    register_buffer does. Buffer(t) is t detached (same storage), marked for Module."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


# Lazy layers' weights before their first input (nn/modules/lazy.py has the design)
class UninitializedTensorMixin:
    """A tensor with no data yet; `materialize(shape)` gives it storage in place."""
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        if dispatch.MODE.tracer is not None:
            # the compiled function runs this call eagerly (the weights are made then) and
            # traces the next one
            raise EagerFirst(
                "a lazy layer (LazyLinear, LazyConv2d, ...) got its first input inside a "
                "compiled step: its weights are made on this call, which runs eagerly")
        # The dtype it holds now: module.double() before the first call converts it.
        dtype = as_dtype(dtype) if dtype is not None else self.dtype
        self._data = np.empty(tuple(shape), dtype=dtype.np)
        self._version.value += 1
        self.__class__ = self.cls_to_become

    def detach(self):
        """Still uninitialized, as PyTorch's is: what `state_dict()` holds for a lazy layer
        that has not run, so loading it into another lazy layer leaves that one lazy too."""
        return uninitialized_buffer(self.dtype, type(self))

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Parameter.__new__(cls, empty(0, dtype=dtype or default_float()), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = uninitialized_buffer(dtype or default_float())
        b.requires_grad = requires_grad
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def uninitialized_buffer(dtype, cls=None):
    b = empty(0, dtype=dtype)
    b.__class__ = cls or UninitializedBuffer
    return b
