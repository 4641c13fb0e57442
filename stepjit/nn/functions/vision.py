"""Pixel shuffles, instance and local response normalization: reshapes, permutes and
moment computations over tensor functions (their gradients are the primitives' rules)."""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError, op_error
from ...ir.primitives.shapes import fmt
from .conv import _pad_constant


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = int(upscale_factor)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise op_error(ShapeError(f"pixel_shuffle expects its input's channel dimension to be "
                                  f"divisible by the square of upscale_factor ({r * r}), but "
                                  f"input has shape {fmt(input.shape)}"), "pixel_shuffle")
    *batch, c, h, w = input.shape
    oc = c // (r * r)
    nb = len(batch)
    x = input.reshape(*batch, oc, r, r, h, w)
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(*batch, oc, h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = int(downscale_factor)
    if input.ndim < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise op_error(ShapeError(f"pixel_unshuffle expects height and width to be divisible "
                                  f"by downscale_factor ({r}), but input has shape "
                                  f"{fmt(input.shape)}"), "pixel_unshuffle")
    *batch, c, h, w = input.shape
    nb = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise op_error(ShapeError(f"channel_shuffle: number of channels {c} must be divisible "
                                  f"by groups {groups}"), "channel_shuffle")
    rest = tuple(input.shape[2:])
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Each (sample, channel) normalized over its spatial positions; running statistics (when
    given) take the batch mean of the per-instance means and unbiased variances."""
    if input.ndim < 3:
        raise op_error(ShapeError(f"instance_norm expects an input of at least 3 dimensions "
                                  f"(N, C, *), got {fmt(input.shape)}"), "instance_norm")
    c = input.shape[1]
    dims = tuple(range(2, input.ndim))
    count = input.numel() // (input.shape[0] * c)
    channel = (1, c) + (1,) * (input.ndim - 2)
    if use_input_stats:
        if count <= 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {list(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().mean(0).reshape(c) * momentum)
                unbiased = var.detach().mean(0).reshape(c) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
        out = centered * (var + eps).rsqrt()
    else:
        out = (input - running_mean.reshape(channel)) * (running_var.reshape(channel) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(channel)
    if bias is not None:
        out = out + bias.reshape(channel)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of squares over `size` neighbouring channels) ** beta, the
    window zero-padded as PyTorch pads it (size // 2 before, (size - 1) // 2 after)."""
    if input.ndim < 3:
        raise op_error(ShapeError(f"Expected 3D or higher dimensionality input (got "
                                  f"{input.ndim} dimensions)"), "local_response_norm")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    pad = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = _pad_constant(sq, tuple(pad), 0.0)
    total = padded.narrow(1, 0, c)
    for j in range(1, size):
        total = total + padded.narrow(1, j, c)
    div = (total * (alpha / size) + k) ** beta
    return input / div
