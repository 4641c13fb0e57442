"""Repeating, rolling and triangular/diagonal selections, as composites of primitives.

repeat/tile/repeat_interleave are reshape + expand + reshape (their gradient is
expand's sum), then copied: their results have memory of their own, as PyTorch's; roll is two slices and a concat; tril/triu are a `where` against
a constant mask; diagonal is a gather with two index ranges (gradient: the
scatter-add), and diag of a vector is an index_put into zeros.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply, concrete
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from ..tensor import Tensor
from .creation import arange, tensor, zeros
from .reduce import _rename
from .shape import _dim, _sizes, cat, movedim, narrow, reshape, sizes_by_keyword

ALL = (None, None, None)


@sizes_by_keyword("repeats")
def repeat(input, *sizes):
    sizes = _sizes(sizes)
    shape = tuple(input.shape)
    if len(sizes) < len(shape):
        raise op_error(ShapeError(f"number of dimensions of repeat dims ({len(sizes)}) can not be "
                                  f"smaller than number of dimensions of tensor {fmt(shape)}"),
                       "repeat")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    paired = tuple(d for s in shape for d in (1, s))
    wide = tuple(d for r, s in zip(sizes, shape) for d in (r, s))
    out = reshape(input, paired).expand(wide)
    return _rename(_fresh(reshape(out, tuple(r * s for r, s in zip(sizes, shape)))),
                   "RepeatBackward0")


def _fresh(t):
    """`t` in memory of its own, as PyTorch's repeat and repeat_interleave always give
    (callers write into them: `x.repeat(b, 1, 1, 1).div_(255)`). Without the copy the result
    can be the expand's shared, read-only memory, or, for sizes of 1, a view of the input."""
    return apply(P.copy, t)


def tile(input, dims):
    dims = _sizes((dims,) if isinstance(dims, int) else tuple(dims))
    dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:   # torch.repeat_interleave(counts): each index repeated counts[i] times
        return repeat_interleave(arange(input.shape[0], device=input.device), input, 0)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        if repeats < 0:
            raise op_error(ShapeError("repeats can not be negative"), "repeat_interleave")
        shape = tuple(input.shape)
        wide = shape[:d + 1] + (repeats,) + shape[d + 1:]
        out = input.unsqueeze(d + 1).expand(wide)
        return _fresh(reshape(out, shape[:d] + (n * repeats,) + shape[d + 1:]))
    counts = np.asarray(concrete(repeats, "value")).astype(np.int64)
    if counts.shape != (n,):
        raise op_error(ShapeError(f"repeats must have the same size as input along dim {d}: "
                                  f"{list(counts.shape)} vs {n}"), "repeat_interleave")
    if (counts < 0).any():
        raise op_error(ShapeError("repeats can not be negative"), "repeat_interleave")
    index = tensor(np.repeat(np.arange(n), counts), device=input.device)
    return apply(P.gather, input, index, key=(ALL,) * d + ("T",))


def roll(input, shifts, dims=None):
    if dims is None:
        flat = roll(input.reshape(-1), shifts, 0)
        return flat.reshape(tuple(input.shape))
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise op_error(ShapeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                                  f"dims: {len(dims)}"), "roll")
    out = input
    for s, dim in zip(shifts, dims):
        d = _dim(dim, input.ndim, "roll")
        n = input.shape[d]
        s = s % n if n else 0
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return out if out is not input else input * 1


def _tri_mask(input, diagonal, lower, op):
    if input.ndim < 2:
        raise op_error(ShapeError(f"{op}: input tensor must have at least 2 dimensions, got "
                                  f"shape {fmt(input.shape)}"), op)
    rows, cols = input.shape[-2], input.shape[-1]
    i = arange(rows, device=input.device).unsqueeze(1)
    j = arange(cols, device=input.device)
    return (j - i <= diagonal) if lower else (j - i >= diagonal)


def _zero(input):
    return False if input.dtype.category == 0 else 0   # (a bool tensor stays bool)


def tril(input, diagonal=0):
    return apply(P.where, _tri_mask(input, diagonal, True, "tril"), input, _zero(input))


def triu(input, diagonal=0):
    return apply(P.where, _tri_mask(input, diagonal, False, "triu"), input, _zero(input))


def diagonal(input, offset=0, dim1=0, dim2=1):
    a, b = _dim(dim1, input.ndim, "diagonal"), _dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise op_error(ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}"),
                       "diagonal")
    x = movedim(input, (a, b), (-2, -1))
    r0, c0 = max(-offset, 0), max(offset, 0)
    n = max(0, min(x.shape[-2] - r0, x.shape[-1] - c0))
    i = arange(r0, r0 + n, device=input.device)
    j = arange(c0, c0 + n, device=input.device)
    out = apply(P.gather, x, i, j, key=(ALL,) * (x.ndim - 2) + ("T", "T"))
    return _rename(out, "DiagonalBackward0")


def diag(input, diagonal=0):
    if input.ndim == 2:
        return diagonal_(input, diagonal)
    if input.ndim != 1:
        raise op_error(ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D"), "diag")
    n = input.shape[0] + abs(diagonal)
    base = zeros(n, n, dtype=input.dtype, device=input.device)
    i = arange(max(-diagonal, 0), max(-diagonal, 0) + input.shape[0], device=input.device)
    j = arange(max(diagonal, 0), max(diagonal, 0) + input.shape[0], device=input.device)
    return apply(P.index_put, base, input, i, j, key=("T", "T"), accumulate=False)


diagonal_ = diagonal


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    if (dim1, dim2) != (-2, -1):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 are supported")
    n = input.shape[-1] + abs(offset)
    base = zeros(*input.shape[:-1], n, n, dtype=input.dtype, device=input.device)
    i = arange(max(-offset, 0), max(-offset, 0) + input.shape[-1], device=input.device)
    j = arange(max(offset, 0), max(offset, 0) + input.shape[-1], device=input.device)
    key = (ALL,) * (input.ndim - 1) + ("T", "T")
    return apply(P.index_put, base, input, i, j, key=key, accumulate=False)


def trace(input):
    if input.ndim != 2:
        raise op_error(ShapeError(f"trace: expected a matrix, but got tensor with dim "
                                  f"{input.ndim}"), "trace")
    return _rename(diagonal(input).sum(), "TraceBackward0")


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", "
                         f"but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise op_error(ShapeError(f"meshgrid expects 0-D or 1-D tensors, got shape "
                                      f"{fmt(t.shape)}"), "meshgrid")
    flat = [t.reshape(-1) for t in tensors]
    sizes = [t.shape[0] for t in flat]
    order = list(range(len(flat)))
    if indexing == "xy" and len(flat) >= 2:
        order[0], order[1] = 1, 0
    full = tuple(sizes[k] for k in order)
    out = []
    for i, t in enumerate(flat):
        shape = [1] * len(flat)
        shape[order.index(i)] = sizes[i]
        out.append(t.reshape(tuple(shape)).expand(full))
    return tuple(out)
