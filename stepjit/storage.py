"""`torch.storage`: the flat memory behind a tensor, as `Tensor.storage()`,
`Tensor.untyped_storage()` and `Tensor.storage_offset()` show it.

An eager stepjit tensor holds a NumPy array, and a view (`t[1]`, `t.t()`, `t.view(...)`) holds
a NumPy view of its base's array, so the memory PyTorch calls a storage is the memory of the
last NumPy array in the view's `.base` chain: the one that owns (or first wraps) the bytes. A
storage here is a flat view of those bytes, so `s[0] = 2.0` writes through to every tensor
over them, and a tensor's storage offset is the distance, in elements, from the start of that
memory to its first element, as in PyTorch.

Only a concrete CPU tensor has one: a value inside a compiled step has no memory of its own
(the compiler plans buffers), so asking for it there is an error that says so.
"""
from __future__ import annotations

import numpy as np

from . import shared_memory
from .errors import user_location
from .ir.types import as_dtype, uint8
from .tensor import device


def _owner(array: np.ndarray) -> np.ndarray:
    """The last ndarray in array's base chain: the memory every view over it shares."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class _Memory:
    """Bytes [address, address + nbytes) of owner, as NumPy's array interface (keeping
    owner alive as long as a view of them is)."""

    def __init__(self, owner, address, nbytes):
        self.owner = owner
        self.__array_interface__ = {"data": (address, False), "shape": (nbytes,),
                                    "typestr": "|u1", "version": 3}


def _flat(array: np.ndarray) -> np.ndarray:
    """A 1-D view, of array's dtype, over all of its owner's memory, in memory order."""
    owner = _owner(array)
    low, high = np.lib.array_utils.byte_bounds(owner)
    nbytes = (high - low) // array.itemsize * array.itemsize
    return np.asarray(_Memory(owner, low, nbytes)).view(array.dtype)


def _array_of(tensor, what: str) -> np.ndarray:
    data = tensor._data
    if type(data) is not np.ndarray:
        where = "inside a compiled step" if tensor.device.type == "cpu" else \
            f"on {tensor.device}"
        raise RuntimeError(f"Tensor.{what}(): the {tensor.dtype.name} {list(tensor.shape)} "
                           f"tensor {where} has no CPU storage to show (at {user_location()}); "
                           "call it on a concrete CPU tensor (outside the compiled step, or "
                           "after .cpu())")
    return data


class TypedStorage:
    """A flat, typed view of a tensor's memory: indexing reads Python numbers and writes
    through to every tensor over the same memory."""

    def __init__(self, flat: np.ndarray):
        self._flat = flat

    @property
    def dtype(self):
        return as_dtype(self._flat.dtype)

    @property
    def device(self):
        return device("cpu")

    def size(self) -> int:
        return self._flat.shape[0]

    __len__ = size

    def element_size(self) -> int:
        return self._flat.itemsize

    def nbytes(self) -> int:
        return self._flat.nbytes

    def data_ptr(self) -> int:
        return self._flat.ctypes.data

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self._flat[index])
        return self._flat[index].item()

    def __setitem__(self, index, value):
        self._flat[index] = getattr(value, "_data", value)

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._flat.tolist()

    def fill_(self, value):
        self._flat[...] = value
        return self

    def copy_(self, other):
        self._flat[...] = other._flat
        return self

    def clone(self):
        return type(self)(self._flat.copy())

    def cpu(self):
        return self

    def is_shared(self) -> bool:
        return shared_memory.segment_of(self._flat) is not None

    def _header(self) -> str:
        return f"dtype={self.dtype}, device={self.device}"

    def __repr__(self):
        # PyTorch's layout: one element a line, then the type and size
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        tail = f"[{name}({self._header()}) of size {len(self)}]"
        if not len(self):
            return tail
        return " " + "\n ".join(str(v) for v in self.tolist()) + "\n" + tail

    __str__ = __repr__


class UntypedStorage(TypedStorage):
    """The same memory as bytes (`Tensor.untyped_storage()`)."""

    @property
    def dtype(self):
        return uint8

    def _header(self) -> str:
        return f"device={self.device}"


def storage(tensor) -> TypedStorage:
    return TypedStorage(_flat(_array_of(tensor, "storage")))


def untyped_storage(tensor) -> UntypedStorage:
    return UntypedStorage(_flat(_array_of(tensor, "untyped_storage")).view(np.uint8))


def storage_offset(tensor) -> int:
    """Elements from the start of the tensor's memory to its first element (0 for a traced
    value, which PyTorch's compiled code would also see as a fresh tensor)."""
    data = tensor._data
    if type(data) is not np.ndarray:
        return 0
    low, _ = np.lib.array_utils.byte_bounds(_owner(data))
    return (data.ctypes.data - low) // data.itemsize
