"""Sorts, scans and counts: sort, argsort, topk, cumsum, cumprod, unique, bincount.

`sort` and `topk` are the `argsort` primitive followed by a gather along the
axis, so their gradient is the gather's scatter-add (the registry's only rule for
it). `unique` and `bincount` have data-dependent result shapes: they read their
input's values (a guarded decision while tracing, as `nonzero` does).
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply, concrete
from ..errors import DTypeError, ShapeError, op_error
from ..ir import primitives as P
from ..ir.types import FLOAT, INT, as_dtype
from .index import take_along_dim
from .reduce import _rename
from .shape import _dim
from .creation import tensor, zeros
from . import return_types



def argsort(input, dim=-1, descending=False, stable=False):
    d = _dim(dim, max(input.ndim, 1), "argsort")
    return apply(P.argsort, input, axis=d, descending=bool(descending), stable=True)


def sort(input, dim=-1, descending=False, stable=False):
    """Stable in every case (PyTorch's unstable sort may order ties either way)."""
    if input.ndim == 0:
        return return_types.sort(input * 1, input.new_zeros((), dtype=as_dtype("int64")))
    idx = argsort(input, dim, descending)
    d = _dim(dim, input.ndim, "sort")
    return return_types.sort(_rename(take_along_dim(input, idx, d), "SortBackward0"), idx)


def topk(input, k, dim=-1, largest=True, sorted=True):
    nd = max(input.ndim, 1)
    d = _dim(dim, nd, "topk")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise op_error(ShapeError(f"selected index k ({k}) out of range for dimension {d} of "
                                  f"shape {list(input.shape)}"), "topk")
    if input.ndim == 0:
        return return_types.topk(input * 1, input.new_zeros((), dtype=as_dtype("int64")))
    idx = apply(P.argsort, input, axis=d, descending=bool(largest), stable=True)
    idx = idx.narrow(d, 0, k)
    return return_types.topk(_rename(take_along_dim(input, idx, d), "TopkBackward0"), idx)


def msort(input):
    return sort(input, 0).values


def kthvalue(input, k, dim=-1, keepdim=False):
    d = _dim(dim, max(input.ndim, 1), "kthvalue")
    values, idx = sort(input, d)
    v, i = values.narrow(d, k - 1, 1), idx.narrow(d, k - 1, 1)
    return return_types.kthvalue(v if keepdim else v.squeeze(d), i if keepdim else i.squeeze(d))


def _scan(prim, input, dim, dtype, op):
    if dtype is not None:
        input = input.to(dtype)
    d = _dim(dim, max(input.ndim, 1), op)
    return apply(prim, input, axis=d)


def cumsum(input, dim, *, dtype=None):
    return _scan(P.cumsum, input, dim, dtype, "cumsum")


def cumprod(input, dim, *, dtype=None):
    return _scan(P.cumprod, input, dim, dtype, "cumprod")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values (PyTorch sorts on CPU whatever `sorted` says); with dim, the
    unique slices along dim in lexicographic order, inverse indexing those slices."""
    a = np.asarray(concrete(input, "value"))
    if dim is not None:
        d = _dim(dim, max(a.ndim, 1), "unique")
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    else:
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    out = [tensor(values, dtype=input.dtype, device=input.device)]
    if return_inverse:
        out.append(tensor(inverse.astype(np.int64), device=input.device))
    if return_counts:
        out.append(tensor(counts.astype(np.int64), device=input.device))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    if dim is not None:
        raise NotImplementedError("unique_consecutive(dim=...) is not supported")
    a = np.asarray(concrete(input, "value")).reshape(-1)
    start = np.ones(a.shape, bool)
    start[1:] = a[1:] != a[:-1]
    out = [tensor(a[start], dtype=input.dtype, device=input.device)]
    if return_inverse:
        out.append(tensor((np.cumsum(start) - 1).reshape(input.shape), device=input.device))
    if return_counts:
        edges = np.flatnonzero(np.append(start, True))
        out.append(tensor(np.diff(edges).astype(np.int64), device=input.device))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """Counts (or summed weights) per non-negative integer value: a scatter-add, so weights
    get their gradient; the length reads the input's maximum."""
    if input.ndim != 1 or input.dtype.category != INT:
        raise op_error(DTypeError(f"bincount only supports 1-d non-negative integral inputs, got "
                                  f"{input.dtype.name} of shape {list(input.shape)}"), "bincount")
    if minlength < 0:
        raise op_error(ShapeError(f"minlength should be >= 0, got {minlength}"), "bincount")
    if weights is not None and tuple(weights.shape) != tuple(input.shape):
        raise op_error(ShapeError(f"weights should be 1-d and have the same length as input: "
                                  f"{list(weights.shape)} vs {list(input.shape)}"), "bincount")
    lo = int(input.min().item()) if input.numel() else 0
    if lo < 0:
        raise op_error(ShapeError("bincount only supports 1-d non-negative integral inputs"),
                       "bincount")
    n = max(int(minlength), int(input.max().item()) + 1 if input.numel() else 0)
    if weights is None:
        base = zeros(n, dtype=as_dtype("int64"), device=input.device)
        return apply(P.index_put, base, 1, input, key=("T",), accumulate=True)
    dtype = weights.dtype if weights.dtype.category == FLOAT else as_dtype("float64")
    base = zeros(n, dtype=dtype, device=input.device)
    return apply(P.index_put, base, weights.to(dtype), input, key=("T",), accumulate=True)
