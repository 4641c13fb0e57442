"""Convolution, pooling, padding and resizing as gathers of windows plus matmuls/reductions.

A 2-D window gather takes the padded input (N, C, Hp, Wp) to (N, C, KH, KW, Ho, Wo) with
one `gather` primitive (two broadcast index tensors: row kh*d + ho*s, column
kw*d + wo*s); its gradient is the registry's scatter-add. Convolution is that gather
reshaped to (N, groups, C/g*KH*KW, Ho*Wo) times the weight (groups, O/g, C/g*KH*KW):
one batched matmul. Max pooling picks each window's first maximum (PyTorch's rule, where
its gradient goes) by a running elementwise choice over the window's cells and an elementwise
`where`, so its gradient is elementwise too; windows that tile the input (MaxPool2d(2)) are a
reshape of it rather than a gather, so no scatter-add remains. Average pooling is a sum
divided by PyTorch's divisor. 1-D forms run the 2-D code with a unit height.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...dispatch import apply
from ...errors import ShapeError, op_error
from ...ir import primitives as P
from ...ir.primitives.shapes import fmt
from ...ops.creation import arange, full, ones, tensor, zeros
from ...ops.elementwise import isnan, where
from ...ops.mathfns import signbit
from ...ir.types import int64
from ...ops.reduce import _rename
from ...ops.shape import stack, tensor_arg
from .adaptive_max import adaptive_max_with_indices

ALL = (None, None, None)


def _pair(v, n=2):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        return tuple(int(x) for x in v)
    return (int(v),) * n


# -- padding --------------------------------------------------------------------------------
def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: pad = (last_left, last_right, second_last_left, ...); negative
    amounts crop. constant: a slice_scatter into a filled tensor; reflect, replicate and
    circular: a gather with constant indices per padded dimension."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise op_error(ShapeError(f"Padding length must be divisible by 2 and at most twice the "
                                  f"number of dimensions; got {len(pad)} for input of shape "
                                  f"{fmt(input.shape)}"), "pad")
    if mode == "constant":
        return _pad_constant(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad mode {mode!r} is not supported")
    out = input
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        index = _pad_index(input.shape[d], pad[2 * i], pad[2 * i + 1], mode)
        out = apply(P.gather, out, tensor(index), key=(ALL,) * d + ("T",))
    return out


@lru_cache(maxsize=256)
def _pad_index_cached(n, left, right, mode):
    pos = np.arange(-left, n + right)
    if mode == "replicate":
        idx = np.clip(pos, 0, n - 1)
    elif mode == "circular":
        idx = pos % n
    else:
        if left >= n or right >= n:
            raise op_error(ShapeError(f"Padding size should be less than the corresponding input "
                                      f"dimension, but got: padding ({left}, {right}) at "
                                      f"dimension of size {n}"), "pad")
        period = 2 * (n - 1) if n > 1 else 1
        m = np.abs(pos) % period
        idx = np.where(m >= n, period - m, m)
    return idx.astype(np.int64)


def _pad_index(n, left, right, mode):
    return _pad_index_cached(n, left, right, mode)


def _pad_constant(input, pad, value):
    shape = list(input.shape)
    key = [ALL] * input.ndim
    crop = [ALL] * input.ndim
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[d]
        crop[d] = (max(-lo, 0), n - max(-hi, 0), None)
        kept = n - max(-lo, 0) - max(-hi, 0)
        shape[d] = kept + max(lo, 0) + max(hi, 0)
        key[d] = (max(lo, 0), max(lo, 0) + kept, None)
    if any(c != ALL for c in crop):
        input = apply(P.slice, input, key=tuple(crop))
    base = full(tuple(shape), value, dtype=input.dtype, device=input.device)
    return apply(P.slice_scatter, base, input, key=tuple(key))


# -- windows ----------------------------------------------------------------------------------
def _out_size(n, k, s, p, d, ceil_mode=False, op="conv"):
    span = n + 2 * p - d * (k - 1) - 1
    if span < 0:
        raise op_error(ShapeError(f"input size {n} (padded to {n + 2 * p}) is smaller than the "
                                  f"kernel size {d * (k - 1) + 1}"), op)
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:   # the last window must start inside the input
        out -= 1
    return out


@lru_cache(maxsize=256)
def _window_index(k, s, d, out):
    """Rows (k, out) of the padded input that window position o reads at offset j."""
    return (np.arange(k)[:, None] * d + np.arange(out)[None, :] * s).astype(np.int64)


def _windows(xp, kernel, stride, dilation, out):
    """(N, C, Hp, Wp) -> (N, C, KH, KW, Ho, Wo): one gather."""
    rows = _window_index(kernel[0], stride[0], dilation[0], out[0])
    cols = _window_index(kernel[1], stride[1], dilation[1], out[1])
    i = tensor(rows.reshape(kernel[0], 1, out[0], 1))
    j = tensor(cols.reshape(1, kernel[1], 1, out[1]))
    return apply(P.gather, xp, i, j, key=(ALL, ALL, "T", "T"))


def _as_batched(input, ndim, op):
    tensor_arg(input, op, "input", 1)      # (an array would pass the shape checks below)
    if input.ndim == ndim + 1:
        return input, False
    if input.ndim == ndim:
        return input.unsqueeze(0), True
    raise op_error(ShapeError(f"Expected {ndim}D (unbatched) or {ndim + 1}D (batched) input to "
                              f"{op}, but got input of size: {fmt(input.shape)}"), op)


def _same_padding(kernel, dilation, stride, op):
    if any(s != 1 for s in stride):
        raise ValueError(f"padding='same' is not supported for strided convolutions ({op})")
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return pads


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, unbatched = _as_batched(input, 3, "conv2d")
    out = _conv(x, weight, bias, _pair(stride), padding, _pair(dilation), groups, "conv2d")
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, unbatched = _as_batched(input, 2, "conv1d")
    if weight.ndim != 3:
        raise op_error(ShapeError(f"conv1d expects a 3-D weight, got {fmt(weight.shape)}"),
                       "conv1d")
    if not isinstance(padding, str):
        padding = (0, _pair(padding, 1)[0])
    out = _conv(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, _pair(stride, 1)[0]), padding,
                (1, _pair(dilation, 1)[0]), groups, "conv1d").squeeze(2)
    out = _rename(out, "ConvolutionBackward0")     # (PyTorch's node for the 2-D detour too)
    return out.squeeze(0) if unbatched else out


def _conv(x, weight, bias, stride, padding, dilation, groups, op):
    n, c, h, w = x.shape
    if weight.ndim != 4:
        raise op_error(ShapeError(f"expected a 4-D weight, got {fmt(weight.shape)}"), op)
    o, cg, kh, kw = weight.shape
    if c != cg * groups or o % groups:
        raise op_error(ShapeError(f"Given groups={groups}, weight of size {fmt(weight.shape)}, "
                                  f"expected input{fmt(x.shape)} to have {cg * groups} channels, "
                                  f"but got {c} channels instead"), op)
    if x.dtype is not weight.dtype:
        raise op_error(ShapeError(f"Input type ({x.dtype.name}) and weight type "
                                  f"({weight.dtype.name}) should be the same"), op)
    if padding == "same":
        pads = _same_padding((kh, kw), dilation, stride, op)
    elif padding == "valid":
        pads = [(0, 0), (0, 0)]
    else:
        pads = [(p, p) for p in _pair(padding)]
    if any(p for pp in pads for p in pp):
        x = _pad_constant(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]), 0.0)
    hp, wp = x.shape[2], x.shape[3]
    ho = _out_size(hp, kh, stride[0], 0, dilation[0], op=op)
    wo = _out_size(wp, kw, stride[1], 0, dilation[1], op=op)
    cols = _windows(x, (kh, kw), stride, dilation, (ho, wo))   # (N, C, KH, KW, Ho, Wo)
    cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)
    wmat = weight.reshape(groups, o // groups, cg * kh * kw)
    out = (wmat @ cols).reshape(n, o, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return _rename(out, "ConvolutionBackward0")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d: each input pixel's weighted kernel is scatter-added into the
    output (the window gather's own gradient), then the padding is cropped."""
    x, unbatched = _as_batched(input, 3, "conv_transpose2d")
    n, c, h, w = x.shape
    ci, og, kh, kw = weight.shape
    if ci != c or c % groups:
        raise op_error(ShapeError(f"Given transposed=1, weight of size {fmt(weight.shape)}, "
                                  f"expected input{fmt(x.shape)} to have {ci} channels, but got "
                                  f"{c} channels instead"), "conv_transpose2d")
    s, p, op_, d = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    o = og * groups
    wmat = weight.reshape(groups, c // groups, og * kh * kw).transpose(1, 2)   # (g, O/g*K, C/g)
    cols = wmat @ x.reshape(n, groups, c // groups, h * w)          # (N, g, O/g*K, H*W)
    cols = cols.reshape(n, o, kh, kw, h, w)
    full_h = (h - 1) * s[0] + d[0] * (kh - 1) + 1 + op_[0]
    full_w = (w - 1) * s[1] + d[1] * (kw - 1) + 1 + op_[1]
    i = tensor(_window_index(kh, s[0], d[0], h).reshape(kh, 1, h, 1))
    j = tensor(_window_index(kw, s[1], d[1], w).reshape(1, kw, 1, w))
    base = full((n, o, full_h, full_w), 0.0, dtype=x.dtype, device=x.device)
    out = apply(P.index_put, base, cols, i, j, key=(ALL, ALL, "T", "T"), accumulate=True)
    out = apply(P.slice, out, key=(ALL, ALL, (p[0], full_h - p[0], None),
                                   (p[1], full_w - p[1], None)))
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    out = _rename(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*KH*KW, L)."""
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    x, unbatched = _as_batched(input, 3, "unfold")
    if any(p):
        x = _pad_constant(x, (p[1], p[1], p[0], p[0]), 0.0)
    ho = _out_size(x.shape[2], k[0], s[0], 0, d[0], op="unfold")
    wo = _out_size(x.shape[3], k[1], s[1], 0, d[1], op="unfold")
    cols = _windows(x, k, s, d, (ho, wo))
    out = cols.reshape(x.shape[0], x.shape[1] * k[0] * k[1], ho * wo)
    return out.squeeze(0) if unbatched else out


# -- pooling --------------------------------------------------------------------------------
def _pool_windows(x, kernel, stride, padding, dilation, ceil_mode, fill, op):
    """Windows (N, C, KH*KW, Ho, Wo) of x padded with `fill` (and on the right as far as
    ceil_mode's last window needs)."""
    n, c, h, w = x.shape
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise op_error(ShapeError(f"pad should be at most half of effective kernel size, but "
                                      f"got pad={p}, kernel_size={k}"), op)
    ho = _out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode, op)
    wo = _out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode, op)
    extra_h = max(0, (ho - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - (h + 2 * padding[0]))
    extra_w = max(0, (wo - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - (w + 2 * padding[1]))
    if padding[0] or padding[1] or extra_h or extra_w:
        x = _pad_constant(x, (padding[1], padding[1] + extra_w, padding[0], padding[0] + extra_h),
                          fill)
    win = _windows(x, kernel, stride, dilation, (ho, wo))
    return win.reshape(n, c, kernel[0] * kernel[1], ho, wo), (ho, wo)


def _pool_args(kernel_size, stride, padding, dilation, n):
    k = _pair(kernel_size, n)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _pair(stride, n)
    return k, s, _pair(padding, n), _pair(dilation, n)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    x, unbatched = _as_batched(input, 3, "max_pool2d")
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2)
    n, c = x.shape[:2]
    tiles = _tiles(x, k, s, p, d, ceil_mode)
    if tiles is not None:       # (N, C, Ho, KH, Wo, KW)
        win, axes = tiles, (3, 5)
        cells = [win.detach()[:, :, :, i, :, j] for i in range(k[0]) for j in range(k[1])]
        ho, wo = win.shape[2], win.shape[4]
        grid = arange(k[0] * k[1]).reshape(1, 1, 1, k[0], 1, k[1])
        spread = (n, c, ho, 1, wo, 1)
    else:                       # (N, C, KH*KW, Ho, Wo)
        win, (ho, wo) = _pool_windows(x, k, s, p, d, ceil_mode, float("-inf"), "max_pool2d")
        axes = (2,)
        cells = [win.detach()[:, :, i] for i in range(k[0] * k[1])]
        grid = arange(k[0] * k[1]).reshape(1, 1, -1, 1, 1)
        spread = (n, c, 1, ho, wo)
    best, arg = _first_max(cells)
    values = _pick(win, grid == arg.reshape(spread), best, axes)
    values = _rename(values, "MaxPool2DWithIndicesBackward0")
    if not return_indices:
        return values.squeeze(0) if unbatched else values
    if unbatched:
        values, arg = values.squeeze(0), arg.squeeze(0)
    return values, _flat_indices(arg, k, s, p, d, (ho, wo), input.shape[-1])


def _tiles(x, k, s, p, d, ceil_mode):
    """x as (N, C, Ho, KH, Wo, KW) when the pooling windows tile it (stride = kernel, no
    padding or dilation: MaxPool2d(2)): a reshape, whose gradient is a reshape where the
    window gather's is a scatter-add. None for other poolings."""
    n, c, h, w = x.shape
    if s != k or any(p) or d != (1, 1) or (ceil_mode and (h % k[0] or w % k[1])):
        return None
    ho, wo = h // k[0], w // k[1]
    if not ho or not wo:
        return None
    if (ho * k[0], wo * k[1]) != (h, w):
        x = apply(P.slice, x, key=(ALL, ALL, (0, ho * k[0], None), (0, wo * k[1], None)))
    return x.reshape(n, c, ho, k[0], wo, k[1])


def _first_max(cells):
    """The maximum of the (detached) window cells and the index of the first cell holding it:
    PyTorch's max-pool rule (NaN wins, then the first of equal maxima), as a running choice
    of elementwise `where`s (no argmax)."""
    best = cells[0]
    arg = zeros(tuple(best.shape), dtype=int64, device=best.device)
    for i, cell in enumerate(cells[1:], 1):
        take = (cell > best).logical_or(isnan(cell).logical_and(isnan(best).logical_not()))
        best = where(take, cell, best)
        arg = where(take, i, arg)
    return best, arg


def _pick(win, chosen, best, axes):
    """The chosen element of each window, with its gradient going to that element alone (an
    elementwise `where`, no scatter of an index). A sum over the window of the chosen element
    and zeros would lose the sign of a chosen -0.0 (reductions start from +0.0), so the sum
    runs over the element times the sign of the maximum, and its result is multiplied back:
    both products are by +-1, exact, and the gradient is multiplied by 1."""
    sign = where(signbit(best), -1.0, 1.0).to(win.dtype) if win.dtype.is_floating_point \
        else ones(tuple(best.shape), dtype=win.dtype)
    wide = sign.reshape([1 if i in axes else m for i, m in enumerate(win.shape)])
    picked = apply(P.sum, where(chosen, win * wide, 0), axis=axes, keepdims=False)
    return picked * sign


def _flat_indices(arg, k, s, p, d, out, width):
    """PyTorch's max-pool indices: row * W + column in the unpadded input."""
    kh, kw = arg // k[1], arg % k[1]
    rows = arange(out[0]).reshape(out[0], 1) * s[0] - p[0] + kh * d[0]
    cols = arange(out[1]) * s[1] - p[1] + kw * d[1]
    return rows * width + cols


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    x, unbatched = _as_batched(input, 2, "max_pool1d")
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 1)
    out = max_pool2d(x.unsqueeze(2), (1, k[0]), (1, s[0]), (0, p[0]), (1, d[0]), ceil_mode,
                     return_indices)
    if return_indices:
        v, i = out[0].squeeze(2), out[1].squeeze(2)
        return (v.squeeze(0), i.squeeze(0)) if unbatched else (v, i)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    x, unbatched = _as_batched(input, 3, "avg_pool2d")
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 2)
    win, (ho, wo) = _pool_windows(x, k, s, p, (1, 1), ceil_mode, 0.0, "avg_pool2d")
    total = win.sum(2)
    if divisor_override:
        out = total / divisor_override
    else:
        div = _avg_divisor(x.shape[2:], k, s, p, (ho, wo), count_include_pad)
        out = total / tensor(div, dtype=x.dtype, device=x.device)
    out = _rename(out, "AvgPool2DBackward0")
    return out.squeeze(0) if unbatched else out


def _avg_divisor(size, k, s, p, out, count_include_pad):
    """PyTorch's divisor per output cell: the window clipped to the padded input (with
    count_include_pad) or to the input itself."""
    divs = []
    for n, kk, ss, pp, oo in zip(size, k, s, p, out):
        start = np.arange(oo) * ss - pp
        end = np.minimum(start + kk, n + pp)
        if count_include_pad:
            divs.append(end - start)
        else:
            divs.append(np.minimum(end, n) - np.maximum(start, 0))
    return (divs[0][:, None] * divs[1][None, :]).astype(np.float64)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    x, unbatched = _as_batched(input, 2, "avg_pool1d")
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 1)
    out = avg_pool2d(x.unsqueeze(2), (1, k[0]), (1, s[0]), (0, p[0]), ceil_mode,
                     count_include_pad).squeeze(2)
    return out.squeeze(0) if unbatched else out


@lru_cache(maxsize=256)
def _adaptive_matrix(n, out):
    """(out, n): row i averages PyTorch's adaptive window floor(i n / out) .. ceil((i+1) n / out)."""
    m = np.zeros((out, n))
    for i in range(out):
        a, b = (i * n) // out, -(-((i + 1) * n) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


def adaptive_avg_pool2d(input, output_size):
    x, unbatched = _as_batched(input, 3, "adaptive_avg_pool2d")
    h, w = x.shape[2], x.shape[3]
    oh, ow = _pair(output_size)
    oh, ow = (h if oh is None else oh), (w if ow is None else ow)
    rows = tensor(_adaptive_matrix(h, oh), dtype=x.dtype, device=x.device)
    cols = tensor(_adaptive_matrix(w, ow).T.copy(), dtype=x.dtype, device=x.device)
    out = rows @ x @ cols
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input, output_size):
    x, unbatched = _as_batched(input, 2, "adaptive_avg_pool1d")
    out = adaptive_avg_pool2d(x.unsqueeze(2), (1, _pair(output_size, 1)[0])).squeeze(2)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    x, unbatched = _as_batched(input, 3, "adaptive_max_pool2d")
    if return_indices:
        return adaptive_max_with_indices(x, output_size, unbatched)
    h, w = x.shape[2], x.shape[3]
    oh, ow = _pair(output_size)
    oh, ow = (h if oh is None else oh), (w if ow is None else ow)
    if h % oh == 0 and w % ow == 0:
        out = max_pool2d(x, (h // oh, w // ow))
    else:
        rows = []
        for i in range(oh):
            a, b = (i * h) // oh, -(-((i + 1) * h) // oh)
            cells = []
            for j in range(ow):
                c, e = (j * w) // ow, -(-((j + 1) * w) // ow)
                cells.append(x[:, :, a:b, c:e].amax((2, 3)))
            rows.append(_stack(cells, -1))
        out = _stack(rows, -2)
    return out.squeeze(0) if unbatched else out


def _stack(ts, dim):
    return stack(ts, dim)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizing of (N, C, L), (N, C, H, W) or (N, C, D, H, W), one spatial dim at a time:
    nearest is a gather with PyTorch's source index floor(dst * in / out); linear, bilinear and
    trilinear mix the two neighbouring gathers by PyTorch's source coordinate
    (align_corners: dst * (in - 1) / (out - 1); else (dst + 0.5) * scale - 0.5, at least 0);
    bicubic mixes four gathers per dim by Keys' cubic convolution (_cubic_resize)."""
    spatial = input.ndim - 2
    if mode == "bicubic" and spatial != 2:
        raise NotImplementedError(f"Got {input.ndim}D input, but bicubic mode needs 4D input")
    if mode == "bicubic" and antialias:
        raise NotImplementedError("interpolate(mode='bicubic', antialias=True) is not supported")
    if mode == "bicubic":
        pass
    elif mode in _LINEAR_MODES:
        if spatial != _LINEAR_MODES[mode]:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{_LINEAR_MODES[mode] + 2}D input")
    elif mode != "nearest":
        raise NotImplementedError(f"interpolate(mode={mode!r}): 'nearest', 'linear', 'bilinear', "
                                  "'bicubic' and 'trilinear' are supported")
    elif align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if spatial < 1:
        raise op_error(ShapeError(f"interpolate expects a batched input with spatial dims, got "
                                  f"{fmt(input.shape)}"), "interpolate")
    insz = input.shape[2:]
    if size is not None:
        outsz = _pair(size, spatial)
        scales = [i / o for i, o in zip(insz, outsz)]
    elif scale_factor is not None:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial
        outsz = tuple(int(math.floor(n * f)) for n, f in zip(insz, sf))
        scales = [1.0 / f if not recompute_scale_factor else n / o
                  for n, f, o in zip(insz, sf, outsz)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    out = input
    if mode == "bicubic":   # the last dim first, as PyTorch's kernel (the same rounding)
        for k in reversed(range(spatial)):
            out = _cubic_resize(out, k, insz[k], outsz[k], scales[k], bool(align_corners),
                                (ALL,) * (2 + k) + ("T",))
        return out
    for k, (n, o, sc) in enumerate(zip(insz, outsz, scales)):
        key = (ALL,) * (2 + k) + ("T",)
        if mode != "nearest":
            out = _linear_resize(out, k, n, o, sc, bool(align_corners), key)
            continue
        src = np.arange(o, dtype=np.float32) * np.float32(sc)   # PyTorch computes in float
        src = np.minimum(np.floor(src).astype(np.int64), n - 1)
        out = apply(P.gather, out, tensor(src), key=key)
    return out


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_CUBIC_A = -0.75   # PyTorch's (and OpenCV's) choice of Keys' parameter


def _cubic_resize(x, k, n, o, scale, align_corners, key):
    """x resized from n to o along spatial dim k by cubic convolution: the gathers at the four
    source positions around PyTorch's source coordinate (clamped to the edge; unclamped
    coordinate, unlike the linear modes), weighted by Keys' kernel, in x's float precision."""
    dt = np.float32 if x.dtype.itemsize == 4 else np.float64
    dst = np.arange(o, dtype=dt)
    if align_corners:
        src = dst * dt((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        src = (dst + dt(0.5)) * dt(scale) - dt(0.5)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0.astype(dt)
    a = dt(_CUBIC_A)
    weights = (_cubic_far(t + 1, a), _cubic_near(t, a), _cubic_near(1 - t, a),
               _cubic_far(2 - t, a))
    shape = (o,) + (1,) * (x.ndim - 3 - k)
    out = None
    for j, w in enumerate(weights):
        idx = np.clip(i0 - 1 + j, 0, n - 1)
        term = apply(P.gather, x, tensor(idx, device=x.device), key=key) \
            * tensor(w.reshape(shape), dtype=x.dtype, device=x.device)
        out = term if out is None else out + term
    return out


def _cubic_near(t, a):
    """Keys' kernel for |t| <= 1."""
    return ((a + 2) * t - (a + 3)) * t * t + 1


def _cubic_far(t, a):
    """Keys' kernel for 1 < |t| < 2."""
    return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a


def _linear_resize(x, k, n, o, scale, align_corners, key):
    """x resized from n to o along spatial dim k: the two nearest source positions' gathers,
    weighted by the distance to PyTorch's source coordinate."""
    if align_corners:
        src = np.arange(o, dtype=np.float64) * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        src = np.maximum((np.arange(o, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(src.astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    shape = (o,) + (1,) * (x.ndim - 3 - k)
    w1 = tensor((src - lo).reshape(shape), dtype=x.dtype, device=x.device)
    near = apply(P.gather, x, tensor(lo, device=x.device), key=key)
    far = apply(P.gather, x, tensor(hi, device=x.device), key=key)
    return near * (1 - w1) + far * w1
