"""3-D pooling (max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d) as two 2-D
poolings: over (H, W) with the depth folded into the channels, then over D with the (H, W)
cells flattened. Max and sum pool box windows one dimension after the other, and PyTorch's
average divisor is a product of per-dimension counts, so the composition is exact and the
gradient is the 2-D poolings'."""
from __future__ import annotations

from .adaptive_max import adaptive_max_with_indices
from .conv import (_as_batched, _pool_args, adaptive_avg_pool2d, adaptive_max_pool2d,
                   avg_pool2d, max_pool2d)


def _split(x, pool_hw, pool_d):
    n, c, d, h, w = x.shape
    hw = pool_hw(x.reshape(n, c * d, h, w))
    ho, wo = hw.shape[-2:]
    out = pool_d(hw.reshape(n, c, d, ho * wo))
    return out.reshape(n, c, out.shape[2], ho, wo)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if return_indices:
        raise NotImplementedError("max_pool3d(return_indices=True) is not supported")
    x, unbatched = _as_batched(input, 4, "max_pool3d")
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 3)
    out = _split(x, lambda t: max_pool2d(t, k[1:], s[1:], p[1:], d[1:], ceil_mode),
                 lambda t: max_pool2d(t, (k[0], 1), (s[0], 1), (p[0], 0), (d[0], 1), ceil_mode))
    return out.squeeze(0) if unbatched else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    x, unbatched = _as_batched(input, 4, "avg_pool3d")
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 3)
    one = 1 if divisor_override else None     # (sums first, then the override divides)
    out = _split(x, lambda t: avg_pool2d(t, k[1:], s[1:], p[1:], ceil_mode, count_include_pad,
                                         one),
                 lambda t: avg_pool2d(t, (k[0], 1), (s[0], 1), (p[0], 0), ceil_mode,
                                      count_include_pad, one))
    if divisor_override:
        out = out / divisor_override
    return out.squeeze(0) if unbatched else out


def _sizes3(x, output_size):
    """The output size, a None entry meaning the input's size there."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    return tuple(n if o is None else int(o) for n, o in zip(x.shape[2:], sizes))


def adaptive_avg_pool3d(input, output_size):
    x, unbatched = _as_batched(input, 4, "adaptive_avg_pool3d")
    od, oh, ow = _sizes3(x, output_size)
    out = _split(x, lambda t: adaptive_avg_pool2d(t, (oh, ow)),
                 lambda t: adaptive_avg_pool2d(t, (od, t.shape[-1])))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    x, unbatched = _as_batched(input, 4, "adaptive_max_pool3d")
    if return_indices:
        return adaptive_max_with_indices(x, output_size, unbatched)
    od, oh, ow = _sizes3(x, output_size)
    out = _split(x, lambda t: adaptive_max_pool2d(t, (oh, ow)),
                 lambda t: adaptive_max_pool2d(t, (od, t.shape[-1])))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)
