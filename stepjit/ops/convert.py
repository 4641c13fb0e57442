"""`.to(...)`: dtype conversion and device placement.

A device move copies the storage (host <-> numba.cuda device array) into a new
tensor; autograd does not flow through it, so make tensors that require grad on
their device (`randn(..., device=device, requires_grad=True)`, `model.to(device)`).
Inside a compiled step a move is the identity: every value of a program lives on
the program's device.
"""
from __future__ import annotations

from .. import cuda as _cuda
from ..dispatch import MODE, apply
from ..ir import primitives as P
from ..ir.types import DType, as_dtype, storage_dtype
from ..meta import NO_DATA, MetaArray
from ..tensor import Tensor, device


def no_cuda():
    raise RuntimeError(_cuda.unavailable_message())


def resolve_device(d):
    """A `device` for d (a string, an int, a device); CUDA only where it is available."""
    if isinstance(d, int) and not isinstance(d, bool):
        d = device("cuda", d)
    dev = device(d) if not isinstance(d, device) else d
    if dev.type == "meta":
        return dev
    if dev.type == "cuda":
        _cuda.require()
        if (dev.index or 0) >= max(_cuda.device_count(), 1):
            raise RuntimeError(f"CUDA error: invalid device ordinal {dev.index}")
    return dev


def _is_device(x):
    """A device, a device string, or (as PyTorch reads `x.to(1)`, `x.cuda(1)`) a CUDA ordinal."""
    if isinstance(x, (device, int)) and not isinstance(x, bool):
        return True
    return isinstance(x, str) and not isinstance(x, Tensor) and \
        x.split(":")[0] in ("cpu", "cuda", "meta")


def to_args(args, dtype=None, device=None):
    """(dtype, device) named by `.to`'s positional arguments, for Tensor.to and Module.to: a
    tensor gives its dtype and device, a device-like value the device, anything else the
    dtype."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
            device = a.device
        elif _is_device(a):
            device = a
        else:
            dtype = a
    return dtype, device


def to(input, *args, dtype=None, device=None, copy=False, non_blocking=False, memory_format=None):
    """(memory_format: stepjit keeps every tensor in C order, layouts.py; the values are the
    same in any format.)"""
    dtype, device = to_args(args, dtype, device)
    out = input
    if device is not None:
        out = move(input, resolve_device(device))
    if dtype is None or storage_dtype(dtype) is out.dtype:
        return out.clone() if copy and out is input else out
    return cast(out, storage_dtype(dtype))


def move(t, dev):
    """t on device dev: t itself when it is there already (or while tracing), else a copy."""
    if MODE.tracer is not None or t.device.type == dev.type:
        return t
    if dev.type == "meta":
        return Tensor._make(MetaArray(t.shape, t._data.dtype))
    if t.is_meta:
        raise NotImplementedError(NO_DATA)
    data = _cuda.to_device(t._data) if dev.type == "cuda" else _cuda.to_host(t._data)
    return Tensor._make(data)


def cast(input, dtype: DType):
    return apply(P.cast, input, dtype=dtype)
