"""Statistics and running reductions: std_mean, var_mean, median, mode, cummax, cummin,
logcumsumexp, histc, histogram, dist, cdist — decompositions into the registry's primitives.

median picks the lower middle of a sort (the `argsort` primitive) and gathers it, so its
gradient goes to that element, as PyTorch's does. The running reductions compare every
position with every earlier one (an n x n mask along the axis): cummax is the last index
holding the running maximum, gathered (gradient to that element, PyTorch's rule), and
logcumsumexp a logsumexp over the masked rows. That is O(n^2) along the scanned axis, which
is what a composite can do without a new scan primitive; the axes these see in training
scripts (a few hundred steps of returns, a sequence) keep it small.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from ..ir.types import FLOAT, int64
from .creation import arange, full, linspace, tensor
from .elementwise import abs, where
from .index import take_along_dim
from .reduce import _rename, amax, logsumexp, mean, norm, std, sum, var
from .shape import _dim
from . import return_types



def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim=keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim=keepdim))


def _select(input, d, k, keepdim):
    """(values, indices) of the k-th smallest along d (a stable sort's order)."""
    idx = apply(P.argsort, input, axis=d, descending=False, stable=True).narrow(d, k, 1)
    values = take_along_dim(input, idx, d)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values, idx


def median(input, dim=None, keepdim=False):
    """The lower of the two middle values (PyTorch's median, not the mean of the two)."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            raise op_error(ShapeError("median() input tensor cannot be empty"), "median")
        values, _ = _select(flat, 0, (flat.shape[0] - 1) // 2, False)
        return _rename(values, "MedianBackward0")
    if input.ndim == 0:
        return return_types.median(input * 1, full((), 0, dtype=int64))
    d = _dim(dim, input.ndim, "median")
    values, idx = _select(input, d, (input.shape[d] - 1) // 2, keepdim)
    return return_types.median(_rename(values, "MedianBackward1"), idx)


def nanmedian(input, dim=None, keepdim=False):
    if bool(apply(P.ne, input, input).any()):
        raise NotImplementedError("nanmedian: inputs holding NaN are not supported yet; "
                                  "without NaN it equals median")
    return median(input, dim, keepdim)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of equally frequent ones) and the last
    index holding it, as PyTorch returns them."""
    if input.ndim == 0:
        return return_types.mode(input * 1, full((), 0, dtype=int64))
    d = _dim(dim, input.ndim, "mode")
    x = input.detach().movedim(d, -1)
    n = x.shape[-1]
    counts = sum(apply(P.eq, x.unsqueeze(-1), x.unsqueeze(-2)), -1)         # (..., n)
    best = apply(P.eq, counts, amax(counts, -1, keepdim=True))
    top = amax(where(best, x, float("-inf") if x.dtype.category == FLOAT else
                     int(np.iinfo(x.dtype.np).min)), -1, keepdim=True)
    smallest = amax(where(best, apply(P.neg, x), apply(P.neg, top)), -1, keepdim=True)
    value = apply(P.neg, smallest)
    positions = arange(n)
    idx = amax(where(apply(P.eq, x, value), positions, -1), -1, keepdim=True).movedim(-1, d)
    values = take_along_dim(input, idx, d)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return return_types.mode(_rename(values, "ModeBackward0"), idx)


def _earlier(n):
    """mask[i, j]: position j is at or before i."""
    return tensor(np.tril(np.ones((n, n), dtype=bool)))


def _running(input, dim, op, sign):
    if input.ndim == 0:
        return input * 1, full((), 0, dtype=int64)
    d = _dim(dim, input.ndim, op)
    x = input.movedim(d, -1)
    n = x.shape[-1]
    low = float("-inf") if x.dtype.category == FLOAT else int(np.iinfo(x.dtype.np).min)
    xs = x.detach() if sign > 0 else apply(P.neg, x.detach())
    mask = _earlier(n)
    rows = where(mask, xs.unsqueeze(-2), low)                          # (..., i, j)
    best = amax(rows, -1, keepdim=True)
    hit = apply(P.logical_and, mask, apply(P.eq, rows, best))
    idx = amax(where(hit, arange(n), -1), -1).movedim(-1, d)
    return take_along_dim(input, idx, d), idx


def cummax(input, dim):
    values, idx = _running(input, dim, "cummax", 1)
    return return_types.cummax(_rename(values, "CummaxBackward0"), idx)


def cummin(input, dim):
    values, idx = _running(input, dim, "cummin", -1)
    return return_types.cummin(_rename(values, "CumminBackward0"), idx)


def logcumsumexp(input, dim):
    if input.ndim == 0:
        return input * 1
    d = _dim(dim, input.ndim, "logcumsumexp")
    x = input.movedim(d, -1)
    rows = where(_earlier(x.shape[-1]), x.unsqueeze(-2), float("-inf"))
    return logsumexp(rows, -1).movedim(-1, d)


def histc(input, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (the data's range when both are 0); values
    outside are left out, the top edge counts in the last bin. Not differentiable."""
    if input.dtype.category != FLOAT:
        raise op_error(ShapeError(f"histc: expected a floating point input, got "
                                  f"{input.dtype.name}"), "histc")
    if bins <= 0:
        raise op_error(ShapeError(f"histc: bins must be > 0, but got {bins}"), "histc")
    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.shape[0]:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise op_error(ShapeError(f"histc: max must be larger than min, got min={min}, "
                                  f"max={max}"), "histc")
    inside = apply(P.logical_and, apply(P.ge, x, lo), apply(P.le, x, hi))
    b = apply(P.floor, apply(P.mul, apply(P.sub, x, lo), bins / (hi - lo)))
    b = apply(P.minimum, apply(P.cast, b, dtype=int64), bins - 1)
    onehot = apply(P.logical_and, apply(P.eq, b.unsqueeze(-1), arange(bins)), inside.unsqueeze(-1))
    return apply(P.cast, sum(onehot, 0), dtype=input.dtype)




def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges): counts (or the sums of `weight`) in the bins between consecutive
    edges, each bin [left, right) but the last [left, right]; `bins` an int (equal bins over
    `range`, the data's when None) or a 1-D tensor of increasing edges. density: hist / (its
    sum * bin width), a probability density. Not differentiable."""
    if input.dtype.category != FLOAT:
        raise op_error(ShapeError(f"histogram: expected a floating point input, got "
                                  f"{input.dtype.name}"), "histogram")
    x = input.detach().reshape(-1)
    edges = _edges(x, bins, range, input.dtype)
    n = edges.shape[0] - 1
    lo, hi = edges[:-1], edges[1:]
    xs = x.unsqueeze(-1)
    inside = apply(P.logical_and, apply(P.ge, xs, lo), apply(P.lt, xs, hi))
    last = apply(P.logical_and, apply(P.eq, xs, edges[-1]), apply(P.eq, arange(n), n - 1))
    member = apply(P.cast, apply(P.logical_or, inside, last), dtype=input.dtype)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise op_error(ShapeError(f"histogram: weight {fmt(weight.shape)} must have the "
                                      f"shape of the input {fmt(input.shape)}"), "histogram")
        member = apply(P.mul, member, weight.detach().reshape(-1).unsqueeze(-1))
    hist = sum(member, 0)
    if density:
        hist = apply(P.div, hist, apply(P.mul, sum(hist), apply(P.sub, hi, lo)))
    return return_types.histogram(hist, edges)


def _edges(x, bins, range, dtype):
    if not isinstance(bins, int):
        edges = bins.detach().to(dtype) if hasattr(bins, "detach") else tensor(bins, dtype=dtype)
        if edges.ndim != 1 or edges.shape[0] < 2:
            raise op_error(ShapeError(f"histogram: bins must be a 1-D tensor of at least 2 "
                                      f"edges, got {fmt(edges.shape)}"), "histogram")
        return edges
    if bins <= 0:
        raise op_error(ShapeError(f"histogram: bins must be > 0, but got {bins}"), "histogram")
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    elif x.shape[0]:
        lo, hi = float(x.min()), float(x.max())
    else:
        lo = hi = 0.0
    if lo > hi:
        raise op_error(ShapeError(f"histogram: min should not exceed max, got min {lo} max "
                                  f"{hi}"), "histogram")
    if lo == hi:      # PyTorch's (and NumPy's) widening of an empty range
        lo, hi = lo - 0.5, hi + 0.5
    return linspace(lo, hi, bins + 1, dtype=dtype)


def dist(input, other, p=2):
    return norm(apply(P.sub, input, other), p)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise op_error(ShapeError(f"cdist: X1 {fmt(x1.shape)} and X2 {fmt(x2.shape)} must be "
                                  f"at least 2-D with the same number of columns"), "cdist")
    if p < 0:
        raise op_error(ShapeError(f"cdist only supports non-negative p values, got {p}"),
                       "cdist")
    diff = apply(P.sub, x1.unsqueeze(-2), x2.unsqueeze(-3))       # (..., P, R, M)
    if p == float("inf"):
        return amax(abs(diff), -1)
    if p == 0:
        return apply(P.cast, sum(apply(P.ne, diff, 0), -1), dtype=x1.dtype)
    return _rename(norm(diff, p, -1), "CdistBackward0")
