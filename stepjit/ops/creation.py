"""Factories. Those that build a tensor from a shape go through the dispatcher, so a
`zeros(...)` inside a compiled step becomes an IR node, not a constant of one call."""
from __future__ import annotations

import math

import numpy as np

from .. import dispatch
from .. import random as _random
from ..dispatch import apply
from ..ir import primitives as P
from ..ir.types import DEFAULT_FLOAT, DEFAULT_INT, as_dtype, bool_
from ..tensor import CPU


def _check_device(device):
    if device is not None and device is not CPU:
        from .convert import resolve_device
        resolve_device(device)


def _finish(t, requires_grad, device=None):
    """Place t on `device` (made on the host, then copied: factories have no device kernels),
    then mark it as requiring grad: a leaf on its device."""
    if device is not None and device is not CPU:   # the host device object: already there
        from .convert import move, resolve_device
        t = move(t, resolve_device(device))
    if requires_grad:
        t.requires_grad = True
    return t


def _array_from(data, dtype):
    from ..tensor import Tensor
    if isinstance(data, Tensor):
        arr = np.array(data._data)
    elif isinstance(data, np.ndarray):
        arr = np.array(data)
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array(_to_py(data))
    else:
        arr = np.array(data)
    if dtype is not None:
        return arr.astype(as_dtype(dtype).np)
    if arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(DEFAULT_FLOAT.np)
    if arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(DEFAULT_INT.np)
    if arr.dtype.kind == "O" or arr.dtype.kind == "U":
        raise TypeError(f"could not convert {type(data).__name__} to a tensor: "
                        "expected numbers or nested sequences of numbers")
    as_dtype(arr.dtype)  # rejects unsupported NumPy dtypes clearly
    return arr


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _to_py(data):
    from ..tensor import Tensor
    if isinstance(data, (list, tuple)):
        return [_to_py(x) for x in data]
    return data.item() if isinstance(data, Tensor) else data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    from ..tensor import Tensor
    _check_device(device)
    return _finish(dispatch.constant(_array_from(data, dtype)), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    from ..tensor import Tensor
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data if device is None else data.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    from ..tensor import Tensor
    as_dtype(ndarray.dtype)
    # Same memory, its own array object: the caller reshaping theirs in place (a.shape = ...)
    # must not reshape the tensor, as in PyTorch; compiled calls rely on that (fastcall.py).
    return dispatch.constant(ndarray.view())


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(d) for d in size)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else (
            DEFAULT_INT if isinstance(fill_value, int) else DEFAULT_FLOAT)
    return _finish(apply(P.full, shape=tuple(size), value=fill_value, dtype=as_dtype(dtype)),
                   requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return full(_shape(size), 0, dtype=dtype or DEFAULT_FLOAT, device=device,
                requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return full(_shape(size), 1, dtype=dtype or DEFAULT_FLOAT, device=device,
                requires_grad=requires_grad)


empty = zeros


def _like(fn, input, dtype, requires_grad, *args):
    return fn(tuple(input.shape), *args, dtype=dtype or input.dtype, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), 0, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device or input.device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), 1, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device or input.device)


empty_like = zeros_like


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                requires_grad=requires_grad, device=device or input.device)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = DEFAULT_INT if is_int else DEFAULT_FLOAT
    return _finish(apply(P.arange, start=start, stop=end, step=step, dtype=as_dtype(dtype)),
                   requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    from ..tensor import Tensor
    _check_device(device)
    arr = np.linspace(start, end, steps).astype(as_dtype(dtype or DEFAULT_FLOAT).np)
    return _finish(dispatch.constant(arr), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    from ..tensor import Tensor
    _check_device(device)
    arr = np.eye(n, m, dtype=as_dtype(dtype or DEFAULT_FLOAT).np)
    return _finish(dispatch.constant(arr), requires_grad, device)


# -- random ---------------------------------------------------------------------------
# Every draw is a random primitive applied to a generator's (seed, offset) state tensor,
# which then advances by the number of values drawn (stepjit/random.py, docs/random.md).
def _generator(generator):
    return generator if generator is not None else _random.default_generator


def _random_tensor(prim, numel, requires_grad, generator, device=None, **attrs):
    """Draw `numel` values with `prim` from the generator (advancing it by numel); on CUDA the
    same values as on the CPU, drawn on the host and copied."""
    out = _generator(generator).draw(prim, numel, **attrs)
    return _finish(out, requires_grad, device)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    _check_device(device)
    shape = _shape(size)
    return _random_tensor(P.uniform, math.prod(shape), requires_grad, generator, device, shape=shape,
                          dtype=as_dtype(dtype or DEFAULT_FLOAT))


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    _check_device(device)
    shape = _shape(size)
    return _random_tensor(P.normal, math.prod(shape), requires_grad, generator, device, shape=shape,
                          dtype=as_dtype(dtype or DEFAULT_FLOAT))


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False,
            generator=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high)."""
    _check_device(device)
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    shape = _shape((size,)) if isinstance(size, int) else _shape(tuple(size))
    return _random_tensor(P.randint, math.prod(shape), requires_grad, generator, device, shape=shape,
                          low=int(low), high=int(high), dtype=as_dtype(dtype or DEFAULT_INT))


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    _check_device(device)
    return _random_tensor(P.randperm, int(n), requires_grad, generator, device, n=int(n),
                          dtype=as_dtype(dtype or DEFAULT_INT))


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device or input.device)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad,
                 device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None):
    """normal(mean, std, size) with float mean/std, or elementwise over tensor mean and/or std."""
    from ..tensor import Tensor
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if size is None:
        size = np.broadcast_shapes(*(tuple(t.shape) for t in tensors)) if tensors else ()
    if dtype is None and tensors:
        dtype = tensors[0].dtype
    device = tensors[0].device if tensors else None
    return randn(size, dtype=dtype, generator=generator, device=device) * std + mean


def bernoulli(input, p=None, *, generator=None):
    """1 with probability `input` (or p), else 0, in input's dtype: uniform < p."""
    prob = input if p is None else p
    return (rand(tuple(input.shape), dtype=input.dtype, generator=generator, device=input.device)
            < prob).to(input.dtype)


def kaiming_bound(fan_in):
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
