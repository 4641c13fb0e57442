"""`out=`, the keyword most of PyTorch's tensor functions take, written once for all of them.

`accepting_out(fn)` wraps a function of the API (stepjit/api.py wraps its tensor functions at
import): the function computes its result as usual, and `out` then receives it as PyTorch
writes an out= argument:

- `out` is a tensor, or a tuple of tensors for a function returning several (`max(x, 1)`,
  `sort`); the call returns `out` (the same result type: `max(...).values is out[0]`);
- a result needing autograd, or an `out` that requires grad, is refused while grad mode is
  on, with PyTorch's message, before anything is written;
- the result is cast to out's dtype by the in-place rule (float into an integer out is
  refused); a function taking `dtype=` (`rand`, `arange`, `zeros`, and reductions such as
  `sum`, `cumsum`) that was given none computes in out's dtype, as PyTorch's do (its
  `sum(x_float, 0, out=x_long)` sums the values cast to int64);
- an `out` of another shape is resized, with PyTorch's warning when it held elements.
  Resizing replaces out's storage, so it is refused for a view and in a compiled step.

The write itself is `Tensor._assign`, the store every in-place op makes, so a compiled step
records it as an in-place write to `out`.
"""
from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..autograd.grad_mode import STATE as GRAD
from ..dispatch import MODE
from ..errors import DTypeError, ShapeError, op_error
from ..tensor import Tensor

# Functions of the API that take no out= in PyTorch because they alias or copy their input's
# properties; every other tensor function of stepjit/ops accepts it.
NO_OUT = frozenset({"tensor", "as_tensor", "from_numpy", "clone", "detach", "numel"})


def accepting_out(fn):
    """fn with an `out=` keyword (fn itself when it takes one already)."""
    params = inspect.signature(fn).parameters
    if "out" in params:
        return fn
    takes_dtype = "dtype" in params

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if takes_dtype and kwargs.get("dtype") is None and isinstance(out, Tensor):
            kwargs["dtype"] = out.dtype
        return write(fn.__name__, fn(*args, **kwargs), out)
    return call


def wrap_namespace(namespace):
    """Give every public tensor function of `namespace` (those of stepjit/ops) an out=."""
    for name, value in list(namespace.items()):
        if (inspect.isfunction(value) and not name.startswith("_") and name not in NO_OUT
                and not name.endswith("_like") and value.__module__.startswith(__package__)):
            namespace[name] = accepting_out(value)


def write(name, result, out):
    """Store `result` (a tensor or a tuple of them) into `out`; return out."""
    results = tuple(result) if isinstance(result, tuple) else (result,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(outs) != len(results) or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{name}(): out= must be {len(results)} tensor(s) for this call, got "
                        f"{_describe(out)}")
    if GRAD.enabled and any(t.requires_grad for t in results + outs):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    for r, o in zip(results, outs):
        if r.dtype.category > o.dtype.category:
            raise op_error(DTypeError(f"result type {r.dtype.name} can't be cast to the desired "
                                      f"output type {o.dtype.name}"), name)
        if tuple(r.shape) != tuple(o.shape):
            _check_resizable(name, o, r)
    for r, o in zip(results, outs):
        if tuple(r.shape) != tuple(o.shape):
            _resize(o, r)
        o._assign(r if r.dtype == o.dtype else r.to(o.dtype), name)
    if not isinstance(result, tuple):
        return out
    return type(result)(*outs) if hasattr(result, "_fields") else outs


def _check_resizable(name, o, r):
    if o._view is not None or MODE.tracer is not None:
        where = "a view" if o._view is not None else "a compiled step"
        raise op_error(ShapeError(f"out= has shape {list(o.shape)}, the result {list(r.shape)}: "
                                  f"resizing out is not supported for {where}; pass an out of "
                                  f"the result's shape"), name)


def _resize(o, r):
    if o.numel():
        warnings.warn(f"An output with one or more elements was resized since it had shape "
                      f"{list(o.shape)}, which does not match the required output shape "
                      f"{list(r.shape)}. This behavior is deprecated, and in a future PyTorch "
                      f"release outputs will not be resized unless they have zero elements.",
                      UserWarning, stacklevel=4)
    o._data = np.empty(tuple(r.shape), dtype=o._data.dtype)


def _describe(out):
    if isinstance(out, (tuple, list)):
        return f"{type(out).__name__} of {len(out)}"
    return type(out).__name__
