"""F.fold (col2im, the inverse layout of F.unfold: overlapping blocks summed), F.max_unpool1d/
2d (the values of a max pooling put back at the positions its indices name, zeros elsewhere),
adaptive_max_pool1d and the `*_with_indices` spellings.

fold is one index_add of the blocks' elements into the padded image, at positions computed
from the shapes alone (NumPy), so its gradient is index_add's: a gather, which is unfold.
max_unpool is a scatter into zeros, whose gradient gathers at the same indices.
"""
from __future__ import annotations

import numpy as np

from ...errors import ShapeError, op_error
from ...ir.primitives.shapes import fmt
from ...ops.creation import tensor, zeros
from .adaptive_max import adaptive_max_with_indices
from .conv import _as_batched, _pair, adaptive_max_pool2d, max_pool1d, max_pool2d


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    h, w = _pair(output_size)
    x, unbatched = _as_batched(input, 2, "fold")
    n, ckk, length = x.shape
    if ckk % (k[0] * k[1]):
        raise op_error(ShapeError(f"Expected size of input's dimension 1 to be divisible by the "
                                  f"product of kernel_size, but got input.size(1)={ckk} and "
                                  f"kernel_size={k}"), "fold")
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    bh = (hp - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (wp - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if bh < 1 or bw < 1 or bh * bw != length:
        raise op_error(ShapeError(f"Given output_size={(h, w)}, kernel_size={k}, dilation={d}, "
                                  f"padding={p}, stride={s}, expected size of input's dimension 2"
                                  f" to match the calculated number of sliding blocks "
                                  f"{max(bh, 0)} * {max(bw, 0)} = {max(bh, 0) * max(bw, 0)}, but "
                                  f"got input.size(2)={length} (input {fmt(input.shape)})"), "fold")
    c = ckk // (k[0] * k[1])
    ki, kj, bi, bj = np.meshgrid(np.arange(k[0]), np.arange(k[1]), np.arange(bh), np.arange(bw),
                                 indexing="ij")
    target = (bi * s[0] + ki * d[0]) * wp + (bj * s[1] + kj * d[1])   # (KH, KW, BH, BW)
    index = tensor(target.reshape(-1), device=x.device)
    out = zeros((n, c, hp * wp), dtype=x.dtype, device=x.device).index_add(
        2, index, x.reshape(n, c, k[0] * k[1] * length))
    out = out.reshape(n, c, hp, wp)[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return out.squeeze(0) if unbatched else out


def _unpool_size(shape, k, s, p, output_size, n):
    if output_size is None:
        return tuple((shape[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(n))
    size = tuple(output_size)[-n:]
    default = tuple((shape[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(n))
    for got, want, step in zip(size, default, s):
        if not want - step < got < want + step:
            raise ValueError(f"invalid output_size {list(output_size)} (dim {len(size)} must be "
                             f"between {want - step} and {want + step})")
    return size


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    x, unbatched = _as_batched(input, 3, "max_unpool2d")
    idx = indices.unsqueeze(0) if unbatched else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise op_error(ShapeError(f"Expected shape of indices to be same as that of the input "
                                  f"tensor ({fmt(x.shape)}) but got indices tensor with shape "
                                  f"{fmt(indices.shape)}"), "max_unpool2d")
    oh, ow = _unpool_size(tuple(x.shape[2:]), k, s, _pair(padding), output_size, 2)
    n, c = x.shape[:2]
    out = zeros((n, c, oh * ow), dtype=x.dtype, device=x.device).scatter(
        2, idx.reshape(n, c, -1), x.reshape(n, c, -1)).reshape(n, c, oh, ow)
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k = _pair(kernel_size, 1)
    s = k if stride is None else _pair(stride, 1)
    x, unbatched = _as_batched(input, 2, "max_unpool1d")
    idx = indices.unsqueeze(0) if unbatched else indices
    size = None if output_size is None else (1, tuple(output_size)[-1])
    out = max_unpool2d(x.unsqueeze(2), idx.unsqueeze(2), (1, k[0]), (1, s[0]),
                       (0, _pair(padding, 1)[0]), size).squeeze(2)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    x, unbatched = _as_batched(input, 2, "adaptive_max_pool1d")
    if return_indices:
        return adaptive_max_with_indices(x, output_size, unbatched)
    out = adaptive_max_pool2d(x.unsqueeze(2), (1, _pair(output_size, 1)[0])).squeeze(2)
    return out.squeeze(0) if unbatched else out


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)

