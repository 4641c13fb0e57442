"""Membership and search: isin, searchsorted, bucketize, take, argwhere, tril_indices,
triu_indices, logspace. Comparisons and counts over broadcast tensors (a search is the
number of sorted entries below each value), so they trace like any elementwise work."""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from ..ir.types import INT, as_dtype, default_float, int32, int64
from ..tensor import Tensor
from .creation import tensor
from .index import nonzero
from .reduce import any as any_, sum
from .. import dispatch
from .index import take_along_dim


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(test_elements, Tensor):
        test_elements = tensor(test_elements)
    if not isinstance(elements, Tensor):
        elements = tensor(elements)
    hit = any_(apply(P.eq, elements.unsqueeze(-1), test_elements.reshape(-1)), -1)
    return apply(P.logical_not, hit) if invert else hit


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Index where each value would be inserted to keep each row sorted: the count of entries
    below it (left) or at most it (right)."""
    if side is not None:
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = tensor(input, dtype=sorted_sequence.dtype) if scalar else input
    if sorter is not None:
        sorted_sequence = take_along_dim(sorted_sequence, sorter, sorted_sequence.ndim - 1)
    if sorted_sequence.ndim > 1 and tuple(sorted_sequence.shape[:-1]) != tuple(values.shape[:-1]):
        raise op_error(ShapeError(f"searchsorted: boundaries {fmt(sorted_sequence.shape)} and "
                                  f"input {fmt(values.shape)} must have the same leading "
                                  f"dimensions"), "searchsorted")
    seq = sorted_sequence.unsqueeze(-2)                          # (..., 1, S)
    below = (P.le if right else P.lt)
    count = sum(apply(below, seq, values.unsqueeze(-1)), -1)
    count = apply(P.cast, count, dtype=int32 if out_int32 else int64)
    return count.reshape(()) if scalar else count


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries.ndim != 1:
        raise op_error(ShapeError(f"bucketize: boundaries must be 1-D, got "
                                  f"{fmt(boundaries.shape)}"), "bucketize")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def take(input, index):
    return input.reshape(-1)[index]


def argwhere(input):
    return nonzero(input)


def _indices(fn, row, col, offset, dtype):
    r, c = fn(row, offset, col)
    return tensor(np.stack([r, c]).astype(as_dtype(dtype).np).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None):
    return _indices(np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None):
    return _indices(np.triu_indices, row, col, offset, dtype)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps), computed in float64 and rounded once."""
    arr = np.logspace(start, end, steps, base=base).astype(as_dtype(dtype or default_float()).np)
    out = dispatch.constant(arr)
    return out.requires_grad_() if requires_grad else out


def unravel_index(indices, shape):
    """The coordinates of flat indices into `shape` (row-major), one int64 tensor per
    dimension; negative indices count from the end."""
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    idx = indices if isinstance(indices, Tensor) else tensor(indices)
    if idx.dtype.category != INT:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype.name}")
    total = 1
    for n in shape:
        total *= n
    flat = idx.to(int64) % max(total, 1)     # (an index past the end wraps, as in PyTorch)
    out = []
    for n in reversed(shape):
        out.append(flat % n)
        flat = flat // n
    return tuple(reversed(out))
