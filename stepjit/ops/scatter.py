"""scatter, scatter_add, scatter_reduce, index_add, index_fill, index_copy: writes through an
index tensor.

Each is the registry's `index_put` (accumulating for the *_add forms) over a full
set of index grids, so its gradient is index_put's rule (a gather for the values,
the input's gradient masked or passed through) and no new primitive is needed.
The in-place forms store the same result (Tensor._inplace).
"""
from __future__ import annotations

import math

import numpy as np

from ..dispatch import MODE, apply
from ..errors import DTypeError, ShapeError, op_error, user_location
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from ..ir.types import FLOAT, int64
from ..tensor import Tensor
from .creation import arange, full
from .elementwise import where
from .shape import _dim, cat

ALL = (None, None, None)


def _scatter_args(input, dim, index, src, op):
    if index.dtype is not int64:
        raise op_error(DTypeError(f"Expected dtype int64 for index, got {index.dtype.name}"), op)
    d = _dim(dim, max(input.ndim, 1), op)
    if index.ndim == 0 and input.ndim == 1:   # PyTorch counts a 0-dim index as one dimension
        index = index.reshape(1)
        src = src.reshape(1) if isinstance(src, Tensor) and src.ndim == 0 else src
    if index.ndim != input.ndim:
        raise op_error(ShapeError(f"Index tensor must have the same number of dimensions as self "
                                  f"tensor: index {fmt(index.shape)}, self {fmt(input.shape)}"), op)
    shape = tuple(index.shape)
    for k, n in enumerate(shape):
        if k != d and n > input.shape[k]:
            raise op_error(ShapeError(f"Size does not match at dimension {k}: index "
                                      f"{fmt(shape)} vs self {fmt(input.shape)}"), op)
    grids = []
    for k in range(index.ndim):
        if k == d:
            grids.append(index)
        else:
            s = [1] * index.ndim
            s[k] = shape[k]
            grids.append(arange(shape[k], device=input.device).reshape(tuple(s)))
    if isinstance(src, Tensor):
        if src.ndim != index.ndim or any(a > b for a, b in zip(shape, src.shape)):
            raise op_error(ShapeError(f"Expected index {fmt(shape)} to be smaller than src "
                                      f"{fmt(src.shape)} apart from dimension {d}"), op)
        if tuple(src.shape) != shape:
            src = src[tuple(slice(0, n) for n in shape)]
    return src, grids


def _check_bounds(input, d, index, op):
    """Out-of-range indices raise naming the op (NumPy's error would not), before any write.
    Eager only: while tracing, reading the index would split the program on its values."""
    if MODE.tracer is None and index.numel():
        n = input.shape[d]
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < -n or hi >= n:
            raise op_error(ShapeError(f"index {hi if hi >= n else lo} is out of bounds for "
                                      f"dimension {d} with size {n}"), op)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    return _scatter(input, dim, index, src, value, reduce, "scatter", inplace=False)


def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, None, "add", "scatter_add", inplace=False)


def _scatter(input, dim, index, src, value, reduce, op, inplace):
    src = value if src is None else src
    if src is None:
        raise TypeError(f"{op}() missing the src or value argument")
    if reduce not in (None, "add", "sum"):
        raise NotImplementedError(f"{op}(reduce={reduce!r}) is not supported; use 'add'")
    values, grids = _scatter_args(input, dim, index, src, op)
    d = _dim(dim, max(input.ndim, 1), op)
    _check_bounds(input, d, index, op)
    attrs = dict(key=("T",) * len(grids), accumulate=reduce is not None)
    if inplace:
        return input._inplace(P.index_put, values, *grids, op=op, **attrs)
    return apply(P.index_put, input, values, *grids, **attrs)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Each src element combined into input at its index along dim by sum, prod, mean, amax or
    amin; include_self=False leaves input's own value out where anything is scattered. sum
    and mean are index_put accumulations (mean divides by the count: floor division for
    integers, as PyTorch's), amax and amin the index_reduce primitive, prod a `prod`
    reduction (_scatter_prod)."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, "
                           f"amax or amin, got {reduce} (at {user_location()})")
    op = "scatter_reduce"
    d = _dim(dim, max(input.ndim, 1), op)
    values, grids = _scatter_args(input, dim, index, src, op)
    _check_bounds(input, d, index, op)
    if reduce == "prod":
        return _scatter_prod(input, d, grids[d], values, include_self)
    key = ("T",) * len(grids)
    base = input
    if not include_self:
        base = apply(P.index_put, input, _identity(reduce, input.dtype), *grids, key=key,
                     accumulate=False)
    if reduce in ("amax", "amin"):
        return apply(P.index_reduce, base, values, *grids, key=key, reduce=reduce)
    total = apply(P.index_put, base, values, *grids, key=key, accumulate=True)
    if reduce == "sum":
        return total
    start = full(tuple(input.shape), 1 if include_self else 0, dtype=int64, device=input.device)
    count = apply(P.index_put, start, 1, *grids, key=key, accumulate=True)
    count = where(count > 0, count, 1)      # (untouched, include_self=False: input itself)
    if input.dtype.category == FLOAT:
        return total / count.to(input.dtype)
    return apply(P.floor_divide, total, count.to(input.dtype))


def _scatter_prod(input, d, index, values, include_self):
    """The products of the values scattered to each position, as one `prod` reduction over a
    one-hot expansion (a factor of 1 where an element goes elsewhere): prod's VJP (products of
    the others, by cumprods) then gives exact gradients where values or input are 0, with no
    division. Memory: index.numel() times input.shape[d]."""
    n = input.shape[d]
    index = where(index < 0, index + n, index)
    grid = [1] * (index.ndim + 1)
    grid[d + 1] = n
    hit = index.unsqueeze(d + 1) == arange(n, device=input.device).reshape(tuple(grid))
    values = values.to(input.dtype) if isinstance(values, Tensor) else values
    factor = where(hit, values.unsqueeze(d + 1) if isinstance(values, Tensor) else values, 1)
    product = _pad_to(factor.prod(dim=d).to(input.dtype), input.shape, 1)
    if include_self:
        return input * product
    count = _pad_to(hit.sum(dim=d), input.shape, 0)
    return where(count > 0, product, input)


def _pad_to(t, shape, value):
    """t (no larger than shape in any dimension) filled out to shape with value."""
    for k, (have, want) in enumerate(zip(t.shape, shape)):
        if have < want:
            pad = list(t.shape)
            pad[k] = want - have
            t = cat([t, full(tuple(pad), value, dtype=t.dtype, device=t.device)], dim=k)
    return t


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if dtype.category == FLOAT:
        return -math.inf if reduce == "amax" else math.inf
    info = np.iinfo(dtype.np) if dtype.name != "bool" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    self._check_inplace("scatter_reduce_")
    src_self = self._snapshot() if self.requires_grad else self
    return self._assign(scatter_reduce(src_self, dim, index, src, reduce,
                                       include_self=include_self), "scatter_reduce_")


def _index_args(input, dim, index, op):
    if index.dtype is not int64:
        raise op_error(DTypeError(f"Expected dtype int64 for index, got {index.dtype.name}"), op)
    if index.ndim > 1:
        raise op_error(ShapeError(f"Index is supposed to be a vector, got {fmt(index.shape)}"), op)
    d = _dim(dim, max(input.ndim, 1), op)
    _check_bounds(input, d, index, op)
    return d, (ALL,) * d + ("T",)


def _index_write(input, dim, index, values, accumulate, op, inplace):
    d, key = _index_args(input, dim, index, op)
    if isinstance(values, Tensor):
        want = tuple(input.shape[:d]) + (index.numel(),) + tuple(input.shape[d + 1:])
        if tuple(values.shape) != want:
            raise op_error(ShapeError(f"source of shape {fmt(values.shape)} does not match "
                                      f"the indexed region {fmt(want)}"), op)
    if inplace:
        return input._inplace(P.index_put, values, index.reshape(-1), op=op, key=key,
                              accumulate=accumulate)
    return apply(P.index_put, input, values, index.reshape(-1), key=key, accumulate=accumulate)


def index_add(input, dim, index, source, *, alpha=1):
    src = source if alpha == 1 else source * alpha
    return _index_write(input, dim, index, src, True, "index_add", False)


def index_copy(input, dim, index, source):
    return _index_write(input, dim, index, source, False, "index_copy", False)


def index_fill(input, dim, index, value):
    if isinstance(value, Tensor):
        value = value.item()
    return _index_write(input, dim, index, value, False, "index_fill", False)


# -- in place ------------------------------------------------------------------------------
def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return _scatter(self, dim, index, src, value, reduce, "scatter_", inplace=True)


def scatter_add_(self, dim, index, src):
    return _scatter(self, dim, index, src, None, "add", "scatter_add_", inplace=True)


def index_add_(self, dim, index, source, *, alpha=1):
    src = source if alpha == 1 else source * alpha
    return _index_write(self, dim, index, src, True, "index_add_", True)


def index_copy_(self, dim, index, source):
    return _index_write(self, dim, index, source, False, "index_copy_", True)


def index_fill_(self, dim, index, value):
    if isinstance(value, Tensor):
        value = value.item()
    return _index_write(self, dim, index, value, False, "index_fill_", True)
