"""Quantiles and covariance: quantile, nanquantile, cov, corrcoef, as decompositions into the
registry's primitives.

A quantile sorts along the axis (the `argsort` primitive, NaNs last) and interpolates between
the two order statistics around q (n - 1), PyTorch's definition; with `nanquantile` n counts
the slice's numbers only, so the positions are tensors and the order statistics are gathered.
The gradient is the sort's: to the one or two elements the value was read from.
"""
from __future__ import annotations

from ..dispatch import apply
from ..errors import user_location
from ..ir import primitives as P
from ..ir.types import FLOAT, default_float, int64
from ..tensor import Tensor
from .creation import full
from .elementwise import isnan, where
from .index import take_along_dim
from .reduce import sum
from .shape import _dim, stack

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False, op="quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True, op="nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    qs, scalar = _check_quantile(input, q, interpolation, op)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, max(input.ndim, 1), op)
    if x.ndim == 0:
        x = x.reshape(1)
    s = take_along_dim(x, apply(P.argsort, x, axis=d, descending=False, stable=True), d)
    nan = isnan(x)
    if ignore_nan:
        count = sum(nan.logical_not(), d, keepdim=True)
    else:
        count = full(tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1:]), x.shape[d], dtype=int64)
    last = (count - 1).clamp_min(0)
    outs = []
    for qv in qs:
        lo, hi, w = _neighbours(last.to(x.dtype) * qv, interpolation, last)
        v = take_along_dim(s, lo, d)
        if w is not None:
            v = v + (take_along_dim(s, hi, d) - v) * w
        empty = count == 0 if ignore_nan else nan.any(d, keepdim=True)
        outs.append(where(empty, float("nan"), v))
    out = stack(outs, 0)
    if dim is None:
        out = out.reshape((len(qs),) + ((1,) * input.ndim if keepdim else ()))
    elif not keepdim:
        out = out.squeeze(d + 1)
    return out[0] if scalar else out


def _neighbours(pos, interpolation, last):
    """(lower index, upper index, weight of the upper or None: the lower alone) around the
    float position pos."""
    lo = pos.floor().to(last.dtype)
    hi = pos.ceil().to(last.dtype)
    if interpolation == "linear":
        return lo, hi, pos - lo.to(pos.dtype)
    if interpolation == "lower":
        return lo, lo, None
    if interpolation == "higher":
        return hi, hi, None
    if interpolation == "midpoint":
        return lo, hi, where(hi == lo, 0.0, 0.5)
    return pos.round().to(last.dtype), hi, None     # nearest: round half to even, as PyTorch


def _check_quantile(input, q, interpolation, op):
    where = f" (at {user_location()})"
    if not isinstance(input, Tensor) or input.dtype.category != FLOAT:
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got "
                           f"{getattr(input, 'dtype', type(input).__name__)}{where}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}{where}")
    scalar = not isinstance(q, Tensor) or q.ndim == 0
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape "
                               f"{list(q.shape)}{where}")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor "
                               f"({q.dtype.name} and {input.dtype.name}){where}")
        qs = [float(v) for v in q.reshape(-1).tolist()]
    else:
        qs = [float(q)]
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty{where}")
    if any(not 0.0 <= v <= 1.0 for v in qs):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1], got {qs}{where}")
    return qs, scalar


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows of input (variables) over its columns (observations),
    weighted by fweights * aweights, with PyTorch's correction for the weights."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions (shape {list(input.shape)}) "
                           f"(at {user_location()})")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if x.dtype.category != FLOAT:
        x = x.to(default_float())
    n = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is not None:
            if wt.ndim > 1 or wt.numel() != n:
                raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions "
                                   f"and the same number of elements as the observations ({n}), "
                                   f"got shape {list(wt.shape)} (at {user_location()})")
            w = wt.to(x.dtype) if w is None else w * wt.to(x.dtype)
    if w is None:
        avg = x.mean(1, keepdim=True)
        norm = n - correction
        xc = x - avg
        c = (xc @ xc.mT) / max(norm, 0)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
        xc = x - avg
        c = ((xc * w) @ xc.mT) / norm.clamp_min(0)
    return c.squeeze()


def corrcoef(input):
    """cov(input) / (sigma_i sigma_j), clipped to [-1, 1] (PyTorch's)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)
