"""Losses beyond the basic ones in functional.py: robust regression (smooth L1, Huber),
divergences and likelihoods (KL, Poisson, Gaussian NLL), and the margin/embedding losses
tutorials use. Each follows PyTorch's formula, including where it clamps or masks."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ...dispatch import apply
from ...ir import primitives as P
from ...ops.elementwise import where
from ...ops.reduce import _rename, count
from ..functional import _reduce as reduce_, _resolve, _warn_size
from ...errors import ShapeError, op_error
from .activations import logsigmoid
from ...ir.types import int64
from ...ops.creation import arange, zeros_like
from ...ops.index import take_along_dim


def _reduce(loss, reduction, name=None):
    return reduce_(loss, reduction, name or "SumBackward0")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_size(input, target, "smooth_l1_loss")
    d = (input - target).abs()
    loss = d if beta == 0 else where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, _resolve(size_average, reduce, reduction), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _warn_size(input, target, "huber_loss")
    d = (input - target).abs()
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "HuberLossBackward0")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input), 0 where target == 0 (xlogy); 'batchmean' divides the
    sum by the batch size."""
    reduction = _resolve(size_average, reduce, reduction)
    if log_target:
        loss = apply(P.exp, target) * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)
        loss = where(positive, target * apply(P.log, safe), 0.0) - target * input
    if reduction == "batchmean":
        out = loss.sum() / (count(input, (0,)) if input.ndim else 1)
        return _rename(out, "DivBackward0")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    if log_input:
        loss = apply(P.exp, input) - target * input
    else:
        loss = input - target * apply(P.log, input + eps)
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * apply(P.log, safe) - safe + apply(P.log, safe * (2 * math.pi)) * 0.5
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, _resolve(size_average, reduce, reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var); var is clamped at eps outside autograd, as
    PyTorch does (the gradient flows as if unclamped)."""
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise op_error(ShapeError(f"var is of incorrect size {list(var.shape)} for input of "
                                      f"size {list(input.shape)}"), "gaussian_nll_loss")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = (apply(P.log, var) + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _clamped_norm(x, dim, eps):
    """The 2-norm, clamped at eps outside autograd (PyTorch's cosine_similarity)."""
    n = (x * x).sum(dim, keepdim=True).sqrt()
    return n + (n.clamp(min=eps) - n).detach()


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    diff = x1 - x2 + eps
    if p == 2:
        return (diff * diff).sum(-1, keepdim=keepdim).sqrt()
    return diff.norm(p, -1, keepdim=keepdim)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    mag = (((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)).sqrt()
    cos = prod / mag
    zeros = cos * 0.0
    pos = where(target == 1, 1.0 - cos, zeros)
    neg = where(target == -1, (cos - margin).clamp(min=0.0), zeros)
    return _reduce(pos + neg, _resolve(size_average, reduce, reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    loss = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return _reduce(loss, _resolve(size_average, reduce, reduction))


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    zeros = input * 0.0
    margin_part = where(target != 1, (margin - input).clamp(min=0.0), zeros)
    self_part = where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, _resolve(size_average, reduce, reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    return _triplet(anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps),
                    margin, swap, _resolve(size_average, reduce, reduction))


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance (default: pairwise_distance)."""
    dist = distance_function if distance_function is not None else pairwise_distance
    return _triplet(anchor, positive, negative, dist, margin, swap,
                    _resolve(None, None, reduction))


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    """max(0, d(a, p) - d(a, n) + margin), with swap taking d(p, n) when it is the smaller."""
    d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_an = d_an.minimum(dist(positive, negative))
    return _reduce((d_ap - d_an + margin).clamp(min=0.0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j (target's entries up to its first -1) and other classes i of
    max(0, 1 - (x[j] - x[i])), divided by the number of classes."""
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if tuple(target.shape) != tuple(input.shape):
        raise op_error(ShapeError(f"inconsistent target size: {list(target.shape)} for input "
                                  f"of size: {list(input.shape)}"), "multilabel_margin_loss")
    t = target.reshape(x.shape)
    n = x.shape[1]
    data = target._data      # (eager: a compiled step's gather checks its own indices)
    if type(data) is np.ndarray and ((data < -1) | (data >= n)).any():
        raise op_error(ShapeError(f"argument #2 'target' is out of range: classes -1 (end) "
                                  f"to {n - 1}"), "multilabel_margin_loss")
    valid = (t >= 0).to(int64).cumprod(1).to(x.dtype)           # entries before the first -1
    safe = where(t >= 0, t, 0)
    member = zeros_like(x).scatter_add(1, safe, valid) > 0           # classes that are targets
    picked = take_along_dim(x, safe, 1)                               # x[j] per target entry
    margins = (1 - (picked.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0.0)   # [N, targets, C]
    keep = valid.unsqueeze(2) * member.logical_not().to(x.dtype).unsqueeze(1)
    loss = (margins * keep).sum((1, 2)) / n
    if input.ndim < 2:
        loss = loss.squeeze(0)
    return _reduce(loss, _resolve(size_average, reduce, reduction))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    loss = apply(P.log1p, apply(P.exp, -target * input))
    return _reduce(loss, _resolve(size_average, reduce, reduction))


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, _resolve(size_average, reduce, reduction))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    t = target.reshape(-1, 1)
    picked = take_along_dim(x, t, 1)
    terms = (x - picked + margin).clamp(min=0.0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight[t]
    others = arange(x.shape[1], device=x.device) != t
    loss = where(others, terms, 0.0).sum(1) / x.shape[1]
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, _resolve(size_average, reduce, reduction))
