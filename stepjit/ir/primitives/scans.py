"""Scans and sorts along one axis: cumsum, cumprod, argsort.

These are not elementwise and not reductions: each output element depends on a
prefix (scans) or on the whole axis (sorts). Compiled programs run them as
single-op groups through their NumPy impl on the CPU backend and as a
documented host round trip on the CUDA backend (programs/cuda.py, docs/cuda.md).

`sort` and `topk` are not primitives: they are `argsort` followed by a gather
along the axis (ops/sorting.py), so their gradient is the gather's scatter-add
and no second gradient formula exists.
"""
from __future__ import annotations

import numpy as np

from ...errors import IndexingError, ShapeError
from ..registry import Primitive, bind, register
from ..types import FLOAT, AVal, int64
from . import shapes as S
from .indexing import arange as _arange


def _axis_rule(x, axis, **_):
    if not 0 <= axis < max(x.ndim, 1):
        raise IndexingError(f"dim {axis} is out of range for a tensor of shape {S.fmt(x.shape)}")


def _scan_rule(x, axis):
    _axis_rule(x, axis)
    # PyTorch accumulates bool and integer tensors as int64.
    return AVal(x.shape, x.dtype if x.dtype.category == FLOAT else int64)


def _np_axis(x, axis):
    return axis if x.ndim else None


def _cumsum_impl(x, axis):
    dtype = x.dtype if x.dtype.kind == "f" else np.int64
    return np.cumsum(x, axis=_np_axis(x, axis), dtype=dtype).reshape(x.shape)


def _cumprod_impl(x, axis):
    dtype = x.dtype if x.dtype.kind == "f" else np.int64
    return np.cumprod(x, axis=_np_axis(x, axis), dtype=dtype).reshape(x.shape)


def _cumsum_grad(g, axis):
    # d out_i / d x_k = [i >= k]: the reversed cumulative sum, without a flip.
    return g.sum(axis, keepdim=True) - bind(cumsum, g, axis=axis) + g


def _cumprod_grad(g, x, axis):
    """sum_{i >= k} g_i prod_{j <= i, j != k} x_j, exact where x has zeros.

    Built on a (.., n_k, n_i) table: row k is x with x_k replaced by 1, scanned; entries
    with i < k are masked out. O(n^2) along the axis, which is what keeps it exact with
    zeros (the quotient out_i / x_k is not defined there)."""
    if x.ndim == 0:
        return g
    n = x.shape[axis]
    xm = x.movedim(axis, -1)                       # (..., n)
    gm = g.movedim(axis, -1)
    i = bind(_arange, start=0, stop=n, step=1, dtype=int64).to(x.device)
    k = i.unsqueeze(1)
    table = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).where(k != i, 1.0)
    scanned = bind(cumprod, table, axis=table.ndim - 1)    # [.., k, i]
    upper = k <= i
    grad = (scanned * gm.unsqueeze(-2)).where(upper, 0.0).sum(-1)
    return grad.movedim(-1, axis)


def _argsort_rule(x, axis, descending, stable):
    _axis_rule(x, axis)
    return AVal(x.shape, int64)


def _argsort_impl(x, axis, descending, stable):
    """Stable sort indices; descending keeps equal elements in their original order
    (PyTorch's stable descending sort), and NaN sorts as the largest value."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
    n = x.shape[axis]
    # Reverse, sort ascending stably, reverse back: equal runs keep their first-seen order.
    rev = np.flip(x, axis)
    idx = np.argsort(rev, axis=axis, kind="stable")
    return (n - 1 - np.flip(idx, axis)).astype(np.int64, copy=False)


cumsum = register(Primitive(
    "cumsum", "scan", _cumsum_impl, _scan_rule, inputs=("x",), attrs=("axis",),
    vjp=(_cumsum_grad,), grad_name="CumsumBackward0", accumulates=True, jvp="linear"))

cumprod = register(Primitive(
    "cumprod", "scan", _cumprod_impl, _scan_rule, inputs=("x",), attrs=("axis",),
    vjp=(_cumprod_grad,), grad_name="CumprodBackward0"))

argsort = register(Primitive(
    "argsort", "scan", _argsort_impl, _argsort_rule, inputs=("x",),
    attrs=("axis", "descending", "stable")))
