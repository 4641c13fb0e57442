"""Factories. Those that build a tensor from a shape go through the dispatcher, so a
`zeros(...)` inside a compiled step becomes an IR node, not a constant of one call."""
from __future__ import annotations

import math

import numpy as np

from .. import dispatch
from .. import random as _random
from ..autograd.function import Function
from ..defaults import default_device
from ..dispatch import apply
from ..errors import DTypeError, StepjitError
from ..ir import primitives as P
from ..ir.primitives.random import multinomial_count
from ..ir.bfloat16 import to_bfloat16
from ..ir.types import (DEFAULT_INT, FLOAT, as_dtype, bfloat16, bool_, default_float, float32,
                        result_type, storage_dtype)
from ..meta import MetaArray
from ..tensor import CPU, Tensor
from .convert import move, resolve_device
from .spacing import linspace_values
from ..autograd.grad_mode import no_grad


def _check_device(device):
    if device is None:
        device = default_device()
    if device is not None and device is not CPU:
        resolve_device(device)


def _finish(t, requires_grad, device=None):
    """Place t on `device` (made on the host, then copied: factories have no device kernels),
    then mark it as requiring grad: a leaf on its device."""
    if device is None:
        device = default_device()   # set_default_device; None for the CPU
    if device is not None and device is not CPU:   # the host device object: already there
        t = move(t, resolve_device(device))
    if requires_grad:
        t.requires_grad = True
    return t


def _array_from(data, dtype):
    if isinstance(data, Tensor):
        arr = np.array(data._data)
    elif isinstance(data, np.ndarray):
        arr = np.array(data)
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array(_to_py(data))
    else:
        arr = np.array(data)
    if dtype is not None and storage_dtype(dtype) is bfloat16:   # (stored, never computed in)
        return to_bfloat16(_array_from(data, float32))
    if dtype is not None:
        target = as_dtype(dtype).np
        if not isinstance(data, (np.ndarray, Tensor)):
            _check_fits(arr, target)
        return arr.astype(target)
    if arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(default_float().np)
    if arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(DEFAULT_INT.np)
    if arr.dtype.kind == "O" or arr.dtype.kind == "U":
        raise TypeError(f"could not convert {type(data).__name__} to a tensor: "
                        "expected numbers or nested sequences of numbers")
    as_dtype(arr.dtype)  # rejects unsupported NumPy dtypes clearly
    return arr


def _check_fits(arr, target):
    """PyTorch refuses Python ints outside an integer dtype's range (`tensor([300],
    dtype=uint8)`), though arithmetic on tensors of that dtype wraps."""
    if target.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
        info = np.iinfo(target)
        if arr.min() < info.min or arr.max() > info.max:
            raise RuntimeError(f"value cannot be converted to type {target.name} without "
                               "overflow")


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _to_py(data):
    if isinstance(data, (list, tuple)):
        return [_to_py(x) for x in data]
    return data.item() if isinstance(data, Tensor) else data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    _check_device(device)
    if _array_argument(data):
        t = data.as_tensor(None if dtype is None else as_dtype(dtype), copy=True)
        return _finish(t, requires_grad, device)
    return _finish(dispatch.constant(_array_from(data, dtype)), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    if _array_argument(data):
        t = data.as_tensor(None if dtype is None else as_dtype(dtype))
        return t if device is None else t.to(device)
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data if device is None else data.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    if _array_argument(ndarray):
        return ndarray.as_tensor()
    as_dtype(ndarray.dtype)
    # Same memory, its own array object: the caller reshaping theirs in place (a.shape = ...)
    # must not reshape the tensor, as in PyTorch; compiled calls rely on that (fastcall.py).
    # A subclass (np.memmap, as nanoGPT's loader slices and casts) becomes a plain ndarray
    # over the same memory: the dispatcher reads any other array type as device storage.
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return dispatch.constant(ndarray.view(np.ndarray))


def _array_argument(data) -> bool:
    """Whether data is a NumPy array argument of a step being traced (tracer/arrays.py): the
    factories make it the trace's input, not a constant."""
    return getattr(type(data), "is_array_argument", False)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(d) for d in size)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else (
            DEFAULT_INT if isinstance(fill_value, int) else default_float())
    if storage_dtype(dtype) is bfloat16:
        # bfloat16 is storage (ir/bfloat16.py): the float32 fill, rounded, as PyTorch's
        out = apply(P.full, shape=tuple(size), value=fill_value, dtype=float32).to(bfloat16)
        return _finish(out, requires_grad, device)
    return _finish(apply(P.full, shape=tuple(size), value=fill_value, dtype=as_dtype(dtype)),
                   requires_grad, device)


def _sized(size, kw, op):
    """The shape given positionally (`zeros(2, 3)`, `zeros((2, 3))`) or as `size=` (the one
    keyword in kw: a Python signature cannot name both *size and size)."""
    size_kw = kw.pop("size", None)
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kw))}'")
    if size_kw is None:
        return _shape(size)
    if size:
        raise TypeError(f"{op}() got multiple values for argument 'size'")
    return _shape((size_kw,))


def zeros(*size, dtype=None, device=None, requires_grad=False, **kw):
    return full(_sized(size, kw, "zeros"), 0, dtype=dtype or default_float(), device=device,
                requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kw):
    return full(_sized(size, kw, "ones"), 1, dtype=dtype or default_float(), device=device,
                requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    """Uninitialized in PyTorch; zeros here (a program reading it before writing is wrong
    either way)."""
    return full(_sized(size, kw, "empty"), 0, dtype=dtype or default_float(), device=device,
                requires_grad=requires_grad)


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
        dtype = DEFAULT_INT if is_int else default_float()
    return _finish(apply(P.arange, start=start, stop=end, step=step, dtype=as_dtype(dtype)),
                   requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    arr = linspace_values(start, end, steps, np.dtype(as_dtype(dtype or default_float()).np))
    return _finish(dispatch.constant(arr), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    arr = np.eye(n, m, dtype=as_dtype(dtype or default_float()).np)
    return _finish(dispatch.constant(arr), requires_grad, device)


# -- random ---------------------------------------------------------------------------
# Every draw is a random primitive applied to a generator's (seed, offset) state tensor,
# which then advances by the number of values drawn (stepjit/random.py, docs/random.md).
def _generator(generator):
    return generator if generator is not None else _random.default_generator


def _random_tensor(prim, numel, requires_grad, generator, device=None, **attrs):
    """Draw `numel` values with `prim` from the generator (advancing it by numel); on CUDA the
    same values as on the CPU, drawn on the host and copied; on the meta device, nothing
    drawn."""
    dev = device if device is not None else default_device()
    if dev is not None and resolve_device(dev).type == "meta" and "shape" in attrs:
        out = Tensor._make(MetaArray(attrs["shape"], attrs["dtype"].np))
        return _finish(out, requires_grad, dev)
    out = _generator(generator).draw(prim, numel, **attrs)
    return _finish(out, requires_grad, device)


def _draw_shape(fn, size, kw):
    """The shape of rand(2, 3) / rand((2, 3)) / rand(size=(2, 3)), with PyTorch's refusals.
    (`size=` arrives in **kw: a keyword may not share the name of *size.)"""
    size_kw = kw.pop("size", None)
    if kw:
        raise TypeError(f"{fn}() got an unexpected keyword argument '{next(iter(kw))}'")
    if size and size_kw is not None:
        raise TypeError(f"{fn}() got both positional sizes {size} and size={size_kw}")
    if size_kw is not None:
        size = (size_kw,)
    if not size:
        raise TypeError(f"{fn}() missing required argument 'size'")
    shape = _shape((size[0],) if len(size) == 1 and isinstance(size[0], int) else size)
    if any(d < 0 for d in shape):
        bad = next(d for d in shape if d < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(shape)}")
    return shape


def _float_dtype(fn, dtype):
    dtype = as_dtype(dtype or default_float())
    if dtype.category != FLOAT:
        raise DTypeError(f'"{fn}" not implemented for \'{dtype.name}\'')
    return dtype


def rand(*size, generator=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **kw):
    """Uniform [0, 1): rand(2, 3), rand((2, 3)), rand(size=(2, 3)); generator=, dtype=, ..."""
    _check_device(device)
    shape = _draw_shape("rand", size, kw)
    return _random_tensor(P.uniform, math.prod(shape), requires_grad, generator, device,
                          shape=shape, dtype=_float_dtype("check_uniform_bounds", dtype))


def randn(*size, generator=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **kw):
    """Standard normal: the same forms as rand."""
    _check_device(device)
    shape = _draw_shape("randn", size, kw)
    return _random_tensor(P.normal, math.prod(shape), requires_grad, generator, device,
                          shape=shape, dtype=_float_dtype("normal_kernel_cpu", dtype))


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False):
    """randint(high, size) or randint(low, high, size): integers in [low, high)."""
    _check_device(device)
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if not int(low) < int(high):
        raise StepjitError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={int(low)} >= to={int(high)}")
    shape = _draw_shape("randint", (size,), {})
    return _random_tensor(P.randint, math.prod(shape), requires_grad, generator, device,
                          shape=shape, low=int(low), high=int(high),
                          dtype=as_dtype(dtype or DEFAULT_INT))


def randperm(n, *, generator=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _check_device(device)
    if int(n) < 0:
        raise RuntimeError(f"n must be non-negative, got{int(n)}")
    return _random_tensor(P.randperm, int(n), requires_grad, generator, device, n=int(n),
                          dtype=as_dtype(dtype or DEFAULT_INT))


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device or input.device, generator=generator)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad,
                 device=device or input.device, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    """randint_like(input, high) or randint_like(input, low, high), in input's dtype."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad,
                   generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """PyTorch's four forms: normal(Tensor mean, Tensor std), normal(Tensor mean, float std),
    normal(float mean, Tensor std) (broadcast; in the tensors' result dtype), and
    normal(float mean, float std, size, dtype=, requires_grad=). As in PyTorch, no gradient
    flows into mean or std (the result requires grad when they do; its gradient is zero)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            "(float, float): with float mean and std, give size")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        out = randn(size, dtype=dtype, generator=generator, device=device) * std + mean
        return out.requires_grad_(True) if requires_grad else out
    if size is not None:
        raise TypeError("normal() received an invalid combination of arguments - got "
                        "(Tensor, ..., size=...): size goes with float mean and std only")
    dtype = result_type(*(t._aval() for t in tensors))
    if dtype.category != FLOAT:
        raise DTypeError(f'"normal_kernel_cpu" not implemented for \'{dtype.name}\'')
    if isinstance(std, Tensor):
        _check_std(std)
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    with no_grad():
        out = randn(shape, dtype=dtype, generator=generator, device=tensors[0].device) * std + mean
    if any(t.requires_grad for t in tensors):
        out = _Normal.apply(out, *tensors)
    return out


class _Normal(Function):
    """PyTorch's gradient of a normal draw: zero for mean and std (no reparameterization)."""

    @staticmethod
    def forward(ctx, value, *inputs):
        ctx.avals = [(tuple(t.shape), t.dtype) for t in inputs]
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(zeros(s, dtype=d) for s, d in ctx.avals)


def _check_std(std):
    if isinstance(std._data, np.ndarray) and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")


def bernoulli(input, p=None, *, generator=None):
    """1 with probability `input` (or p), else 0, in input's dtype: uniform < p."""
    if p is None:
        if input.dtype.category != FLOAT:
            raise DTypeError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                             f"'{input.dtype.name}'")
        if isinstance(input._data, np.ndarray) and ((input._data < 0) | (input._data > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        prob, dtype = input.detach(), input.dtype
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        prob, dtype = p, input.dtype
    u = rand(tuple(input.shape), dtype=dtype if dtype.category == FLOAT else default_float(),
             generator=generator, device=input.device)
    return (u < prob).to(dtype)


_TORCH_NAMES = {"int64": "Long", "int32": "Int", "bool": "Bool", "uint8": "Byte", "int8": "Char",
                "int16": "Short"}   # PyTorch's ScalarType names


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of `input` (non-negative weights)."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input.dtype.category != FLOAT:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_TORCH_NAMES.get(input.dtype.name, input.dtype.name)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    data = input._data
    if isinstance(data, np.ndarray):   # eager: the checks on values PyTorch makes
        if not np.isfinite(data).all() or (data < 0).any():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (data.sum(axis=-1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    count = multinomial_count(tuple(input.shape), int(num_samples), bool(replacement))
    out = _generator(generator).draw(P.multinomial, count, input.detach().cpu(),
                                     num_samples=int(num_samples), replacement=bool(replacement))
    return _finish(out, False, input.device)


def kaiming_bound(fan_in):
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
