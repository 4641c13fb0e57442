"""The meta device: tensors with a shape and a dtype and no data (`device='meta'`).

PyTorch's recipe for big models builds them on the meta device (no memory, no random
draws), then `load_state_dict(..., assign=True)` binds the checkpoint's tensors or
`module.to_empty(device=...)` allocates real storage. A meta tensor's storage is a
`MetaArray`: any op with a meta input runs the primitive's shape and dtype rule only (the
dispatch point's device branch, dispatch._device_eager) and gives a meta result, recorded for
autograd like any op, so a backward on meta tensors gives meta gradients. Writes into a meta
tensor (in-place ops, `copy_`, init functions) change nothing and draw no random numbers;
reading values (`item`, `numpy`, `tolist`, printing values, `.to('cpu')`) raises PyTorch's
errors. A meta tensor meets a float CPU tensor only as a 0-dim operand, as in PyTorch (CPU
index tensors are let through: layers such as conv build their window indices on the CPU).
"""
from __future__ import annotations

import numpy as np

from .errors import user_location

NO_DATA = "Cannot copy out of meta tensor; no data!"


class MetaArray:
    """A meta tensor's storage: shape and NumPy dtype, with the array attributes tensors read."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def strides(self):
        out, step = [], self.dtype.itemsize
        for d in reversed(self.shape):
            out.append(step)
            step *= max(d, 1)
        return tuple(reversed(out))

    base = None

    def copy_to_host(self):
        raise NotImplementedError(NO_DATA)

    def __repr__(self):
        return f"MetaArray({self.shape}, {self.dtype})"


def is_meta(a) -> bool:
    return type(a) is MetaArray


def like(a) -> MetaArray:
    """A meta array of a's shape and dtype."""
    return MetaArray(a.shape, a.dtype)


def result(prim, args, arrays, aval):
    """The meta result of prim on these inputs: its shape rule's, after the device check."""
    for a, arr in zip(args, arrays):
        if hasattr(a, "_data") and not is_meta(arr) and arr.ndim and arr.dtype.kind == "f":
            raise RuntimeError(f"{prim.name}: Tensor on device cpu is not on the expected "
                               f"device meta! (an operand of shape {list(arr.shape)}; only "
                               f"0-dim CPU tensors combine with meta tensors, at "
                               f"{user_location()})")
    return MetaArray(aval.shape, aval.dtype.np)
