"""Normalization and lookup: layer_norm, group_norm, batch_norm, normalize, embedding.

batch_norm updates the running statistics in place under no_grad (momentum, unbiased
variance, as PyTorch does); in a compiled step those writes are functionalized and
written back like any buffer update. The three norms' results carry PyTorch's backward node
names (NativeLayerNormBackward0, ...) with or without their affine weight and bias, as a
printed tensor shows them.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError, op_error
from ...ir.primitives.shapes import fmt
from ...ops.elementwise import where
from ...ops.reduce import _rename, count
from ...ir.types import INT, float64


def _moments(x, dims):
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered, var


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if tuple(input.shape[input.ndim - n:]) != shape or input.ndim < n:
        raise op_error(ShapeError(f"Given normalized_shape={list(shape)}, expected input with "
                                  f"shape [*, {', '.join(map(str, shape))}], but got input of "
                                  f"size {fmt(input.shape)}"), "layer_norm")
    dims = tuple(range(input.ndim - n, input.ndim))
    centered, var = _moments(input, dims)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return _rename(out, "NativeLayerNormBackward0", input, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    if eps is None:
        import numpy as np
        eps = float(np.finfo(input.dtype.np).eps)
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def _channel(t, ndim):
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise op_error(ShapeError(f"Expected number of channels in input to be divisible by "
                                  f"num_groups, but got input of shape {fmt(input.shape)} and "
                                  f"num_groups={num_groups}"), "group_norm")
    n = input.shape[0]
    grouped = input.reshape(n, num_groups, -1)
    centered, var = _moments(grouped, (2,))
    out = (centered * (var + eps).rsqrt()).reshape(tuple(input.shape))
    if weight is not None:
        out = out * _channel(weight, input.ndim)
    if bias is not None:
        out = out + _channel(bias, input.ndim)
    return _rename(out, "NativeGroupNormBackward0", input, weight, bias)


def _bessel(input, dims, dtype):
    """n / (n - 1) over `dims`, as the float64 quotient rounded to `dtype` (a Python float
    would be that number too, but a literal of the compiled step: one kernel per batch size)."""
    ratio = count(input, dims, dtype=float64) / count(input, dims, 1, dtype=float64)
    return ratio.to(dtype)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    if input.ndim < 2:
        raise op_error(ShapeError(f"expected 2D or more input, got shape {fmt(input.shape)}"),
                       "batch_norm")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise op_error(ShapeError(f"{name} should contain {c} elements not {t.numel()} "
                                      f"(input of shape {fmt(input.shape)})"), "batch_norm")
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        per_channel = input.numel() // c
        if per_channel <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        centered, var = _moments(input, dims)
        if running_mean is not None:
            with no_grad():
                mean = input.mean(dims)
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                unbiased = var.detach().reshape(c) * _bessel(input, dims, var.dtype)
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
        out = centered * (var + eps).rsqrt()
    else:
        out = (input - _channel(running_mean, input.ndim)) * \
            (_channel(running_var, input.ndim) + eps).rsqrt()
    if weight is not None:
        out = out * _channel(weight, input.ndim)
    if bias is not None:
        out = out + _channel(bias, input.ndim)
    return _rename(out, "NativeBatchNormBackward0", input, weight, bias)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    norm = input.norm(p, dim, keepdim=True) if p != 2 else \
        (input * input).sum(dim, keepdim=True).sqrt()
    return input / norm.clamp(min=eps).expand_as(input)


def norm_except_dim(v, pow=2, dim=0):
    """The p-norm of v over every dimension but `dim`, kept as size-1 dimensions (dim=-1:
    over all of v, a 0-dim result: PyTorch's special case, not the last dimension)."""
    if dim == -1:
        return v.norm(pow)
    d = dim % v.ndim
    axes = tuple(i for i in range(v.ndim) if i != d)
    return v.norm(pow, axes, keepdim=True) if axes else v.abs()


def weight_norm(v, g, dim=0):
    """torch._weight_norm: v scaled to the norm g along dim (weight normalization's weight)."""
    return v * (g / norm_except_dim(v, 2, dim))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """weight[input]: its gradient is the gather's scatter-add into weight's rows. Positions
    that look up padding_idx pass no gradient (PyTorch's rule)."""
    if input.dtype.category != INT:
        raise op_error(ShapeError(f"Expected tensor for argument #1 'indices' to have one of the "
                                  f"following scalar types: Long, Int; but got {input.dtype.name}"
                                  f" (indices of shape {fmt(input.shape)})"), "embedding")
    if weight.ndim != 2:
        raise op_error(ShapeError(f"'weight' must be 2-D, got {fmt(weight.shape)}"), "embedding")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(scale_grad_by_freq=True) is not supported")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None:
        out = where((input == padding_idx).unsqueeze(-1), out.detach(), out)
    return _rename(out, "EmbeddingBackward0", weight)


def _renorm_rows(weight, input, max_norm, norm_type):
    """Rows looked up whose norm exceeds max_norm are scaled down in place (PyTorch's
    embedding_renorm_), before the lookup and outside autograd."""
    with no_grad():
        flat = input.reshape(-1)
        rows = weight[flat]
        norms = rows.abs().pow(norm_type).sum(1, keepdim=True).pow(1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[flat] = rows * scale
