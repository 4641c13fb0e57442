"""Shape and movement primitives: they move data, they do not compute it.

Eagerly these are NumPy views where NumPy can make one (`view=True`): the
output shares storage, and so the version counter, with its input.
"""
from __future__ import annotations

import numpy as np

from ...errors import ShapeError
from ..registry import Primitive, bind, register
from ..types import AVal, int64
from . import shapes as S
from .indexing import arange, full


def _reshape_rule(x, shape):
    n = 1
    for d in x.shape:
        n *= d
    m = 1
    for d in shape:
        m *= d
    if n != m or any(d < 0 for d in shape):
        raise ShapeError(f"shape {S.fmt(shape)} is invalid for input of size {n} (shape {S.fmt(x.shape)})")
    return AVal(tuple(shape), x.dtype)


def _transpose_rule(x, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"permutation {list(perm)} does not match a tensor of {x.ndim} dimensions")
    return AVal(tuple(x.shape[p] for p in perm), x.dtype)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _expand_rule(x, shape):
    if len(shape) < x.ndim:
        raise ShapeError(f"cannot expand shape {S.fmt(x.shape)} to fewer dimensions {S.fmt(shape)}")
    for have, want in zip(x.shape[::-1], shape[::-1]):
        if have != want and have != 1:
            raise ShapeError(f"cannot expand shape {S.fmt(x.shape)} to {S.fmt(shape)}")
    return AVal(tuple(shape), x.dtype)


def _concat_rule(*xs, axis):
    first = xs[0]
    if first.ndim == 0:
        raise ShapeError("zero-dimensional tensors cannot be concatenated")
    total = 0
    for x in xs:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != axis):
            raise ShapeError("shapes " + ", ".join(S.fmt(x.shape) for x in xs)
                             + f" do not match outside dim {axis}")
        if x.dtype is not first.dtype:
            raise ShapeError("cannot concatenate tensors of dtypes "
                             + ", ".join(x.dtype.name for x in xs))
        total += x.shape[axis]
    return AVal(first.shape[:axis] + (total,) + first.shape[axis + 1:], first.dtype)


def _concat_grad(g, index, in_shapes, axis):
    start = 0
    for s in in_shapes[:index]:
        start += s[axis]
    key = (slice(None),) * axis + (slice(start, start + in_shapes[index][axis]),)
    return g[key]


def _reverses(perm):
    """Numba types `a.transpose(perm)` through a generic overload that takes seconds to compile;
    `a.T` (every axis reversed, the matmul-backward case) is free: only that goes native."""
    return tuple(perm) == tuple(range(len(perm) - 1, -1, -1))


reshape = register(Primitive(
    "reshape", "movement", lambda x, shape: x.reshape(shape), _reshape_rule,
    inputs=("x",), attrs=("shape",), vjp=(lambda g, in_shapes: g.reshape(in_shapes[0]),),
    jvp="linear",
    grad_name="ViewBackward0", view=True, may_copy=True, keeps_uniform=True,
    unview=lambda x, v, shape: v.reshape(x.shape), native="reshaped({0}, {shape})"))

transpose = register(Primitive(
    "transpose", "movement", lambda x, perm: x.transpose(perm), _transpose_rule,
    inputs=("x",), attrs=("perm",), vjp=(lambda g, perm: g.permute(_inverse(perm)),),
    jvp="linear",
    grad_name="PermuteBackward0", view=True, keeps_uniform=True,
    unview=lambda x, v, perm: v.permute(_inverse(perm)), native="{0}.T",
    native_when=lambda attrs: _reverses(attrs["perm"])))

def _expand_impl(x, shape):
    """np.broadcast_to's view, made directly: its Python wrapper (an nditer) costs more than
    the step's whole sum backward. A read-only view with stride 0 on the expanded dimensions."""
    if x.size == 1:   # every dimension broadcast (a full reduction's gradient): no per-axis work
        strides = (0,) * len(shape)
    else:
        lead = len(shape) - x.ndim
        strides = (0,) * lead + tuple(st if have == want else 0
                                      for have, want, st in zip(x.shape, shape[lead:], x.strides))
    try:
        view = np.ndarray(shape, x.dtype, x, 0, strides)   # x's buffer: contiguous x only
    except (TypeError, ValueError, BufferError):
        return np.broadcast_to(x, shape)
    view.setflags(write=False)   # (the method: half the cost of `view.flags.writeable = False`)
    return view


# The engine sums every gradient back to its input's shape, so expand's rule is identity.
expand = register(Primitive(
    "expand", "movement", _expand_impl, _expand_rule,
    inputs=("x",), attrs=("shape",), vjp=(lambda g: g,), grad_name="ExpandBackward0", view=True,
    jvp="linear",
    keeps_uniform=True, native="broadcast_view({0}, {shape})"))

def _concat_native(node):
    """The parts copied one after another into the output's buffer (codegen/indexing.py)."""
    axis = node.attrs["axis"] % node.out.ndim
    parts = [f"_c = concat_part({{out}}, {{{k}}}, {'_c' if k else 0}, {axis})"
             for k in range(len(node.inputs))]
    return "; ".join(parts)


concat = register(Primitive(
    "concat", "movement", lambda *xs, axis: np.concatenate(xs, axis=axis), _concat_rule,
    inputs=("xs",), attrs=("axis",), vjp=_concat_grad, grad_name="CatBackward0", variadic=True,
    jvp="linear",
    native=_concat_native))


# -- as_strided: a strided window onto a tensor's memory ---------------------------------------
# The input is the storage: its elements in row-major order (the front end, ops/strided.py,
# passes the tensor whose memory that is). out[i0, i1, ...] = flat[offset + sum(ik * stride[k])].
# Eagerly a NumPy view over the input's memory (overlapping windows share elements, as in
# PyTorch); its gradient adds each output element back where it was read, so a position read
# by several windows gets the sum, as PyTorch's AsStridedBackward0.
def _as_strided_rule(x, size, stride, offset):
    if len(size) != len(stride):
        raise ShapeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise ShapeError(f"Negative strides are not supported at the moment, got strides: "
                         f"{list(stride)}")
    if any(d < 0 for d in size):
        raise ShapeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                         f"strides={list(stride)}")
    if offset < 0:
        raise ShapeError(f"Tensor: invalid storage offset {offset}")
    n = 1
    for d in x.shape:
        n *= d
    need = 0 if 0 in size else offset + 1 + sum((d - 1) * s for d, s in zip(size, stride))
    if need > n:
        item = x.dtype.np.itemsize
        raise ShapeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                         f"{offset}, and itemsize {item} requiring a storage size of "
                         f"{need * item} are out of bounds for storage of size {n * item}")
    return AVal(tuple(size), x.dtype)


def as_strided_positions(size, stride, offset) -> np.ndarray:
    """The flat position each output element reads, an int64 array of shape `size`."""
    pos = np.full(tuple(size), offset, dtype=np.int64)
    for k, (d, s) in enumerate(zip(size, stride)):
        pos += (np.arange(d, dtype=np.int64) * s).reshape((d,) + (1,) * (len(size) - k - 1))
    return pos


def _as_strided_impl(x, size, stride, offset):
    flat = x.reshape(-1)          # x's own memory when row-major (a copy only otherwise)
    item = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:] if offset < flat.size else flat[:0],
                                           tuple(size), tuple(s * item for s in stride))


def _positions(size, stride, offset):
    """as_strided_positions as a flat int64 tensor, made of aranges (graph nodes, not
    constants: the rules stay straight-line code, autograd/array_vjp.py)."""
    pos = bind(full, shape=tuple(size), value=offset, dtype=int64)
    for k, (d, s) in enumerate(zip(size, stride)):
        step = bind(arange, start=0, stop=d, step=1, dtype=int64)
        pos = pos + step.reshape((d,) + (1,) * (len(size) - k - 1)) * s
    return pos.reshape(-1)


def _as_strided_grad(g, in_shapes, size, stride, offset):
    n = 1
    for d in in_shapes[0]:
        n *= d
    flat = g.new_zeros(n).index_add(0, _positions(size, stride, offset), g.reshape(-1))
    return flat.reshape(in_shapes[0])


def _as_strided_unview(x, v, size, stride, offset):
    """x with the view's new values written where the view reads."""
    flat = x.reshape(-1).index_put((_positions(size, stride, offset),), v.reshape(-1))
    return flat.reshape(x.shape)


as_strided = register(Primitive(
    "as_strided", "movement", _as_strided_impl, _as_strided_rule,
    inputs=("x",), attrs=("size", "stride", "offset"), vjp=(_as_strided_grad,),
    jvp="linear", grad_name="AsStridedBackward0", view=True, may_copy=True,
    unview=_as_strided_unview))
