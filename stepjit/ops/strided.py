"""`Tensor.as_strided` / `torch.as_strided`: a view with the sizes and strides given, over the
memory of the tensor's storage.

PyTorch reads the strides and the storage offset against the storage, not against the tensor:
`x[4:8].as_strided((2, 2), (1, 1))` starts at element 4 of x's storage, and `x.t()` reads x's
row-major memory. So the primitive (ir/primitives/movement.py) is applied to the tensor whose
memory the storage is, the root of the view chain (`Tensor._view`), with its axes put in memory
order (a permute, a view, when its layout is not row-major), at the storage offset given or, by
default, the tensor's own offset in that storage, found by replaying its view steps on the
positions of the root's elements. Gradients and writes through the result reach the root
through the primitive, and a view's history through it as for any view.

Inside a compiled step a value has no layout of its own (the compiler plans buffers); the
tracer can express as_strided there when the root is a value the graph computed (read as
row-major, as a fresh PyTorch result is) or an input whose array is row-major and starts its
memory. Otherwise (an input with another layout, or a view of part of a larger array) the step
runs eagerly, with a reason that names the line.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import MODE, apply
from ..errors import EagerOnly, ShapeError, op_error, user_location
from ..ir import primitives as P
from ..storage import storage_offset as _storage_offset
from ..tensor import Tensor


def as_strided(input, size, stride, storage_offset=None):
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    root = input if input._view is None else input._view[0]
    if MODE.tracer is not None:
        _check_traceable(MODE.tracer, root)
        memory, start = root, 0
    else:
        memory, start = _in_memory_order(root), _storage_offset(root)
    if storage_offset is None:
        storage_offset = start + _offset_in_root(input, root)
    offset = int(storage_offset) - start
    try:
        return apply(P.as_strided, memory, size=size, stride=stride, offset=offset)
    except ShapeError as e:   # (PyTorch's words name the storage offset, not ours)
        if offset == storage_offset:
            raise
        raise op_error(ShapeError(str(e).split(": ", 1)[1].rsplit(" (at", 1)[0].replace(
            f"storage offset {offset}", f"storage offset {storage_offset}")), "as_strided") \
            from None


def _ints(xs, what):
    try:
        return tuple(int(d) for d in xs)
    except TypeError:
        raise TypeError(f"as_strided(): argument '{what}' must be tuple of ints, not "
                        f"{type(xs).__name__}") from None


def _in_memory_order(root):
    """root with its axes permuted into memory order: its elements in row-major order are its
    memory (a contiguous array, or a transposed one of a dense layout)."""
    data = root._data
    if type(data) is not np.ndarray or data.flags.c_contiguous:
        return root
    perm = tuple(sorted(range(data.ndim), key=lambda k: -data.strides[k]))
    if data.transpose(perm).flags.c_contiguous:
        return root.permute(perm)
    raise ShapeError(f"as_strided: the tensor's storage holds elements between its own "
                     f"(strides {root.stride()}); call .contiguous() first (at {user_location()})")


def _offset_in_root(t, root) -> int:
    """Elements from root's first element to t's, in root's memory order: t's view steps
    replayed on the positions of root's elements."""
    if t is root:
        return 0
    positions = np.arange(int(np.prod(root.shape)), dtype=np.int64).reshape(root.shape)
    data = root._data
    if type(data) is np.ndarray and not data.flags.c_contiguous:
        positions = _memory_positions(data)
    for prim, attrs in t._view[1]:
        positions = prim.impl(positions, **attrs)
    return int(positions.reshape(-1)[0]) if positions.size else 0


def _memory_positions(data):
    """For each element of a dense array, its position in memory order."""
    perm = sorted(range(data.ndim), key=lambda k: -data.strides[k])
    shape = tuple(data.shape[k] for k in perm)
    return np.arange(data.size, dtype=np.int64).reshape(shape).transpose(np.argsort(perm))


def _check_traceable(tracer, root):
    """Raise EagerOnly when root's layout in PyTorch is not the row-major one the trace gives
    it: an input whose array has another layout or starts within a larger memory."""
    array = tracer.concrete_input(root)
    if array is None:
        return
    if not array.flags.c_contiguous or _storage_offset(Tensor._make(array)) != 0:
        raise EagerOnly(f"as_strided at {user_location()} reads the memory of an input whose "
                        "layout the trace does not keep (not row-major, or part of a larger "
                        "array); pass a contiguous tensor (.contiguous()) to compile it")
