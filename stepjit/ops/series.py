"""NaN-skipping reductions, differences, integrals and combinatorial constructions: nansum,
nanmean, diff, trapezoid, cumulative_trapezoid, cartesian_prod, combinations, block_diag,
vander, pdist, inner, chain_matmul, matrix_power — decompositions into the registry's
primitives (slices, sums, products, concats)."""
from __future__ import annotations

import itertools
from functools import reduce as _fold

import numpy as np

from ..dispatch import apply
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from .creation import eye, tensor, zeros
from .elementwise import where
from .reduce import sum
from .shape import _dim, cat, matmul, narrow, stack
from ..ir.types import result_type
from .products import tensordot
from .stats import cdist
from .tiling import meshgrid


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    return sum(where(apply(P.ne, x, x), 0.0, x), dim, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    kept = apply(P.eq, x, x)
    count = sum(apply(P.cast, kept, dtype=x.dtype), dim, keepdim)
    return apply(P.div, sum(where(kept, x, 0.0), dim, keepdim), count)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim (bool inputs: exclusive or, as PyTorch)."""
    d = _dim(dim, input.ndim, "diff")
    x = cat([t for t in (prepend, input, append) if t is not None], d) \
        if prepend is not None or append is not None else input
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = narrow(x, d, 1, size - 1), narrow(x, d, 0, size - 1)
        x = apply(P.ne, hi, lo) if x.dtype.category == 0 else apply(P.sub, hi, lo)
    return x


def trapezoid(y, x=None, *, dx=None, dim=-1):
    d = _dim(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return sum(y, d)
    mid = apply(P.add, narrow(y, d, 1, n - 1), narrow(y, d, 0, n - 1))
    if x is None:
        return apply(P.mul, sum(mid, d), 0.5 * (1.0 if dx is None else dx))
    return apply(P.mul, sum(apply(P.mul, mid, _spacing(x, y, d)), d), 0.5)


def _spacing(x, y, d):
    """diff(x) along y's dim d (a 1-D x is laid along d)."""
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = x.shape[0] - 1
        return diff(x).reshape(shape)
    return diff(x, dim=d)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    d = _dim(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[d]
    mid = apply(P.add, narrow(y, d, 1, n - 1), narrow(y, d, 0, n - 1))
    step = (0.5 * (1.0 if dx is None else dx)) if x is None else \
        apply(P.mul, _spacing(x, y, d), 0.5)
    return apply(P.cumsum, apply(P.mul, mid, step), axis=d)


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    if input.ndim != 1:
        raise op_error(ShapeError(f"combinations expects a 1-D tensor, got {fmt(input.shape)}"),
                       "combinations")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[tensor(idx)]


def block_diag(*tensors):
    mats = [t.reshape(1, -1) if t.ndim == 1 else t.reshape(1, 1) if t.ndim == 0 else t
            for t in tensors]
    if any(m.ndim != 2 for m in mats):
        raise op_error(ShapeError("block_diag: input tensors must have 2 or fewer dimensions, "
                                  "got " + ", ".join(fmt(t.shape) for t in tensors)), "block_diag")
    cols = [m.shape[1] for m in mats]
    dtype = result_type(*(m._aval() for m in mats))
    rows = []
    for i, m in enumerate(mats):
        parts = [zeros(m.shape[0], c, dtype=dtype) if j != i else m.to(dtype)
                 for j, c in enumerate(cols)]
        rows.append(cat(parts, 1))
    return cat(rows, 0)


def vander(x, N=None, increasing=False):
    n = x.shape[0] if N is None else N
    powers = [apply(P.pow, x, k) if k else apply(P.mul, x, 0) + 1 for k in range(n)]
    if not increasing:
        powers = powers[::-1]
    return stack(powers, 1) if powers else zeros(x.shape[0], 0, dtype=x.dtype)


def pdist(input, p=2):
    """Distances between every pair of rows i < j, in row-major order of the pairs."""
    if input.ndim != 2:
        raise op_error(ShapeError(f"pdist only supports 2D tensors, got: {fmt(input.shape)}"),
                       "pdist")
    i, j = np.triu_indices(input.shape[0], 1)
    return cdist(input[tensor(i.astype(np.int64))].unsqueeze(-2),
                 input[tensor(j.astype(np.int64))].unsqueeze(-2), p).reshape(-1)


def inner(input, other):
    """Sum over the last dims: shape input.shape[:-1] + other.shape[:-1]."""
    if input.ndim == 0 or other.ndim == 0:
        return apply(P.mul, input, other)
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def chain_matmul(*matrices):
    return _fold(matmul, matrices)


def matrix_power(input, n):
    """A^n by repeated squaring (n < 0: of the inverse; n == 0: the identity)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise op_error(ShapeError(f"matrix_power expects square matrices, got "
                                  f"{fmt(input.shape)}"), "matrix_power")
    if n == 0:   # the identity, with a (zero) gradient, as PyTorch's requires grad
        identity = eye(input.shape[-1], dtype=input.dtype).expand(*input.shape)
        return apply(P.add, apply(P.mul, input, 0.0), identity)
    base = apply(P.inv, input) if n < 0 else input
    result, k = None, abs(n)
    while k:
        if k & 1:
            result = base if result is None else matmul(result, base)
        k >>= 1
        if k:
            base = matmul(base, base)
    return result
