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


def _check_device(device):
    if device is not None:
        from .convert import resolve_device
        resolve_device(device)


def _finish(t, requires_grad):
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
    return _finish(dispatch.constant(_array_from(data, dtype)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    from ..tensor import Tensor
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    from ..tensor import Tensor
    as_dtype(ndarray.dtype)
    return dispatch.constant(ndarray)


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
                   requires_grad)


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
    return full(tuple(input.shape), 0, dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), 1, dtype=dtype or input.dtype, requires_grad=requires_grad)


empty_like = zeros_like


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = DEFAULT_INT if is_int else DEFAULT_FLOAT
    return _finish(apply(P.arange, start=start, stop=end, step=step, dtype=as_dtype(dtype)),
                   requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    from ..tensor import Tensor
    _check_device(device)
    arr = np.linspace(start, end, steps).astype(as_dtype(dtype or DEFAULT_FLOAT).np)
    return _finish(dispatch.constant(arr), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    from ..tensor import Tensor
    _check_device(device)
    arr = np.eye(n, m, dtype=as_dtype(dtype or DEFAULT_FLOAT).np)
    return _finish(dispatch.constant(arr), requires_grad)


# -- random ---------------------------------------------------------------------------
def _random_tensor(draw, size, dtype, requires_grad, generator=None):
    from ..tensor import Tensor
    gen = (generator or _random.default_generator).np
    dt = as_dtype(dtype or DEFAULT_FLOAT)
    arr = np.asarray(draw(gen, _shape(size), dt.np))
    return _finish(dispatch.constant(arr.astype(dt.np, copy=False), random=True), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    _check_device(device)
    return _random_tensor(lambda g, s, d: g.random(s, dtype=d if d.kind == "f" else np.float64),
                          size, dtype, requires_grad, generator)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    _check_device(device)
    return _random_tensor(lambda g, s, d: g.standard_normal(s, dtype=d if d.kind == "f" else np.float64),
                          size, dtype, requires_grad, generator)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    return _random_tensor(lambda g, s, d: g.integers(low, high, s), size, dtype or DEFAULT_INT,
                          requires_grad, generator)


def randperm(n, *, dtype=None, device=None, generator=None):
    from ..tensor import Tensor
    gen = (generator or _random.default_generator).np
    return dispatch.constant(gen.permutation(n).astype(as_dtype(dtype or DEFAULT_INT).np), random=True)


def rand_like(input, *, dtype=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype)


def randn_like(input, *, dtype=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype)


def normal(mean=0.0, std=1.0, size=None, *, generator=None):
    return randn(size, generator=generator) * std + mean


def bernoulli(input, p=None, *, generator=None):
    prob = input if p is None else p
    return (rand(tuple(input.shape), dtype=input.dtype, generator=generator) < prob).to(input.dtype)


def kaiming_bound(fan_in):
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
