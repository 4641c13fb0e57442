"""How multiprocessing's pickler sends a tensor: its storage moved to shared memory (if it is
not there yet) and described by file name, so the receiving process maps the same memory, as
PyTorch's reductions do. Plain `pickle` still copies the values (Tensor.__reduce_ex__)."""
from __future__ import annotations

from multiprocessing.reduction import ForkingPickler

from .. import cuda as _cuda
from .. import shared_memory
from ..nn.parameter import Parameter
from ..tensor import Tensor


def rebuild_shared(cls, descriptor, requires_grad):
    t = Tensor._make(shared_memory.attach(*descriptor))
    if issubclass(cls, Parameter):
        t = cls(t, requires_grad)
    t._requires_grad = requires_grad
    return t


def reduce_tensor(t):
    if t._requires_grad and t._grad_fn is not None:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, "
                           "since autograd does not support crossing process boundaries.  If "
                           "you just want to transfer the data, call detach() on the tensor "
                           "before serializing (e.g., putting it on the queue).")
    if _cuda.is_device_array(t._data):
        return t.__reduce_ex__(2)     # (a copy: stepjit has no CUDA IPC handles)
    t.share_memory_()
    return (rebuild_shared, (type(t), shared_memory.describe(t._data), t._requires_grad))


def _subclasses(cls):
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def init_reductions():
    for cls in _subclasses(Tensor):
        ForkingPickler.register(cls, reduce_tensor)
