"""conv3d and conv_transpose1d, over the 2-D convolutions in conv.py.

conv3d gathers the depth windows (N, C, D, H, W) -> (N, C, KD, Do, H, W) with one `gather`,
folds depth positions into the batch and the depth offsets into the channels (channel-major,
so groups stay contiguous), and runs conv2d with the weight reshaped to
(O, C/g * KD, KH, KW): one window gather more than a 2-D convolution, and the same gradient
rules. conv_transpose1d is conv_transpose2d with a unit height. conv_transpose3d is
conv_transpose2d's construction with a third window dimension: one batched matmul gives
each input voxel's weighted kernel, one accumulating index_put (three broadcast index
tensors) adds them into the full output, and a slice crops the padding.
"""
from __future__ import annotations

from ...dispatch import apply
from ...errors import ShapeError, op_error
from ...ir import primitives as P
from ...ir.primitives.shapes import fmt
from ...ops.creation import full, tensor
from ...ops.reduce import _rename
from .conv import ALL, _as_batched, _out_size, _pad_constant, _pair, _window_index, \
    conv2d, conv_transpose2d


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, unbatched = _as_batched(input, 4, "conv3d")
    if weight.ndim != 5:
        raise op_error(ShapeError(f"conv3d expects a 5-D weight, got {fmt(weight.shape)}"),
                       "conv3d")
    n, c = x.shape[0], x.shape[1]
    o, cg, kd, kh, kw = weight.shape
    if c != cg * groups or o % groups:
        raise op_error(ShapeError(f"Given groups={groups}, weight of size {fmt(weight.shape)}, "
                                  f"expected input{fmt(x.shape)} to have {cg * groups} channels, "
                                  f"but got {c} channels instead"), "conv3d")
    s, d = _pair(stride, 3), _pair(dilation, 3)
    pads = _padding3(padding, (kd, kh, kw), d, s)
    if any(p for pp in pads for p in pp):
        x = _pad_constant(x, (pads[2][0], pads[2][1], pads[1][0], pads[1][1],
                              pads[0][0], pads[0][1]), 0.0)
    dp, hp, wp = x.shape[2], x.shape[3], x.shape[4]
    do = _out_size(dp, kd, s[0], 0, d[0], op="conv3d")
    rows = tensor(_window_index(kd, s[0], d[0], do))                  # (KD, Do)
    cols = apply(P.gather, x, rows, key=(ALL, ALL, "T"))               # (N, C, KD, Do, Hp, Wp)
    cols = cols.permute(0, 3, 1, 2, 4, 5).reshape(n * do, c * kd, hp, wp)
    w2 = weight.reshape(o, cg * kd, kh, kw)
    out = conv2d(cols, w2, None, s[1:], 0, d[1:], groups)              # (N*Do, O, Ho, Wo)
    out = out.reshape(n, do, o, out.shape[2], out.shape[3]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1, 1)
    out = _rename(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _padding3(padding, kernel, dilation, stride):
    if padding == "valid":
        return [(0, 0)] * 3
    if padding == "same":
        if any(v != 1 for v in stride):
            raise ValueError("padding='same' is not supported for strided convolutions (conv3d)")
        return [(dd * (k - 1) // 2, dd * (k - 1) - dd * (k - 1) // 2)
                for k, dd in zip(kernel, dilation)]
    return [(p, p) for p in _pair(padding, 3)]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    x, unbatched = _as_batched(input, 2, "conv_transpose1d")
    if weight.ndim != 3:
        raise op_error(ShapeError(f"conv_transpose1d expects a 3-D weight, got "
                                  f"{fmt(weight.shape)}"), "conv_transpose1d")
    out = conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias,
                           (1, _pair(stride, 1)[0]), (0, _pair(padding, 1)[0]),
                           (0, _pair(output_padding, 1)[0]), groups, (1, _pair(dilation, 1)[0]))
    out = _rename(out.squeeze(2), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    x, unbatched = _as_batched(input, 4, "conv_transpose3d")
    if weight.ndim != 5:
        raise op_error(ShapeError(f"conv_transpose3d expects a 5-D weight, got "
                                  f"{fmt(weight.shape)}"), "conv_transpose3d")
    n, c, d, h, w = x.shape
    ci, og, kd, kh, kw = weight.shape
    if ci != c or c % groups:
        raise op_error(ShapeError(f"Given transposed=1, weight of size {fmt(weight.shape)}, "
                                  f"expected input{fmt(x.shape)} to have {ci} channels, but got "
                                  f"{c} channels instead"), "conv_transpose3d")
    s, p = _pair(stride, 3), _pair(padding, 3)
    op_, dl = _pair(output_padding, 3), _pair(dilation, 3)
    for k in range(3):
        if op_[k] >= max(s[k], dl[k]):
            raise op_error(ShapeError(f"output padding must be smaller than either stride or "
                                      f"dilation, but got output_padding={op_} stride={s} "
                                      f"dilation={dl}"), "conv_transpose3d")
    kernel, sizes = (kd, kh, kw), (d, h, w)
    o = og * groups
    k_all = kd * kh * kw
    wmat = weight.reshape(groups, c // groups, og * k_all).transpose(1, 2)   # (g, O/g*K, C/g)
    cols = wmat @ x.reshape(n, groups, c // groups, d * h * w)               # (N, g, O/g*K, DHW)
    cols = cols.reshape(n, o, kd, kh, kw, d, h, w)
    full_sizes = [(sizes[k] - 1) * s[k] + dl[k] * (kernel[k] - 1) + 1 + op_[k] for k in range(3)]
    index = []
    for k in range(3):   # (kd, 1, 1, d, 1, 1), (1, kh, 1, 1, h, 1), (1, 1, kw, 1, 1, w)
        shape = [1] * 6
        shape[k], shape[3 + k] = kernel[k], sizes[k]
        index.append(tensor(_window_index(kernel[k], s[k], dl[k], sizes[k]).reshape(shape)))
    base = full((n, o, *full_sizes), 0.0, dtype=x.dtype, device=x.device)
    out = apply(P.index_put, base, cols, *index, key=(ALL, ALL, "T", "T", "T"), accumulate=True)
    out = apply(P.slice, out, key=(ALL, ALL) + tuple((p[k], full_sizes[k] - p[k], None)
                                                    for k in range(3)))
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1, 1)
    out = _rename(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out
