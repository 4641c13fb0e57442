"""Stacking, splitting and turning: hstack/vstack/dstack/column_stack, atleast_nd,
tensor_split, rot90, flipud/fliplr — views, slices and concats over the registry's
movement primitives, so their gradients are those primitives' rules."""
from __future__ import annotations

from ..errors import ShapeError, op_error
from ..ir.primitives.shapes import fmt
from ..tensor import Tensor
from .shape import _dim, cat, flip, narrow, reshape, transpose, unsqueeze


def _tensors(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise op_error(ShapeError(f"{op} expects a non-empty TensorList"), op)
    return tensors


def _one_or_many(tensors, fn):
    if isinstance(tensors, Tensor):
        return fn(tensors)
    out = [fn(t) for t in tensors]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*tensors):
    args = tensors[0] if len(tensors) == 1 else tensors
    return _one_or_many(args, lambda t: reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    def two(t):
        return reshape(t, (1, 1)) if t.ndim == 0 else unsqueeze(t, 0) if t.ndim == 1 else t
    return _one_or_many(tensors[0] if len(tensors) == 1 else tensors, two)


def atleast_3d(*tensors):
    def three(t):
        if t.ndim == 0:
            return reshape(t, (1, 1, 1))
        if t.ndim == 1:
            return reshape(t, (1, t.shape[0], 1))
        return unsqueeze(t, -1) if t.ndim == 2 else t
    return _one_or_many(tensors[0] if len(tensors) == 1 else tensors, three)


def hstack(tensors):
    ts = [atleast_1d(t) for t in _tensors(tensors, "hstack")]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in _tensors(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in _tensors(tensors, "dstack")], 2)


def column_stack(tensors):
    ts = _tensors(tensors, "column_stack")
    return cat([reshape(t, (-1, 1)) if t.ndim <= 1 else t for t in ts], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Sections: n parts, the first (size % n) of them one longer; indices: cut before each."""
    d = _dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise op_error(ShapeError(f"tensor_split: number of sections must be larger than "
                                      f"0, got {n}"), "tensor_split")
        q, r = divmod(size, n)
        cuts, at = [], 0
        for i in range(n - 1):
            at += q + (1 if i < r else 0)
            cuts.append(at)
    else:
        cuts = [int(i) for i in indices_or_sections]
    out, start = [], 0
    for stop in cuts + [size]:
        lo, hi = min(max(start, 0), size), min(max(stop, 0), size)
        out.append(narrow(input, d, lo, max(hi - lo, 0)))
        start = stop
    return tuple(out)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims, from the first axis toward the
    second (PyTorch's and NumPy's direction)."""
    if len(dims) != 2 or input.ndim < 2:
        raise op_error(ShapeError(f"rot90 expects two dims and an input of at least 2 "
                                  f"dimensions, got dims={tuple(dims)} for {fmt(input.shape)}"),
                       "rot90")
    a, b = (_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise op_error(ShapeError(f"rot90: dims must be different, got {tuple(dims)}"), "rot90")
    k %= 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), (b,))
    return input.clone()


def flipud(input):
    return flip(input, (0,))


def fliplr(input):
    return flip(input, (1,))
