"""PyTorch functions and Tensor methods real programs reach for less often than the core:
`.real` / `.imag` / `cfloat()` / `isreal` on real tensors, `frombuffer` (MNIST readers parse
IDX files with it), `fill`, `resize` / `resize_as` (autograd's shape-preserving resize),
`float_power_`, `swapaxes_`, and the global switches (`set_flush_denormal`,
`set_warn_always`).

Each is a composite of ops stepjit already has, so its gradient is theirs:
  fill(x, v)        v broadcast to x's shape in x's dtype (no gradient to x, v's sums up)
  resize(x, *s)     reshape, refused unless the element count is kept (PyTorch's Resize)
  isreal(x)         ones for a real x; imag == 0 for a complex one
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..dispatch import apply
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.types import as_dtype, bool_, complex64, complex128, float32, float64
from ..tensor import Tensor
from . import creation, elementwise as E, mathfns as MF
from . import shape as S
from .complex_numbers import complex_

_SETTINGS = {"warn_always": False}
_SCALAR_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}   # PyTorch's names in its messages


# -- complex views of real tensors -----------------------------------------------------------
def real(self):
    """A real tensor's real part is the tensor itself (PyTorch returns self)."""
    return self


def imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _to_complex(self, dtype):
    if self.dtype.is_complex:
        return self.to(dtype)
    part = float32 if dtype is complex64 else float64
    re = self.to(part)
    return complex_(re, creation.zeros_like(re))


def cfloat(self, memory_format=None):
    return _to_complex(self, complex64)


def cdouble(self, memory_format=None):
    return _to_complex(self, complex128)


def isreal(input):
    """True where the element has no imaginary part: everywhere for a real tensor."""
    if input.dtype.is_complex:
        return input.imag == 0
    return creation.ones(tuple(input.shape), dtype=bool_, device=input.device)


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    px = input * math.pi
    safe = E.where(input == 0, 1.0, px)
    return E.where(input == 0, 1.0, safe.sin() / safe)


# -- special functions: registry primitives (ir/primitives/special_fns.py has the algorithms)
def i0(input):
    return apply(P.i0, input)


def i0e(input):
    return apply(P.i0e, input)


def i1(input):
    return apply(P.i1, input)


def i1e(input):
    return apply(P.i1e, input)


def ndtri(input):
    return apply(P.ndtri, input)


def erfcx(input):
    return apply(P.erfcx, input)


def spherical_bessel_j0(input):
    """sin(x) / x, 1 at 0."""
    safe = E.where(input == 0, 1.0, input)
    return E.where(input == 0, 1.0, safe.sin() / safe)


# -- values and shapes -----------------------------------------------------------------------
def fill(input, value):
    """A new tensor of input's shape and dtype holding value (a number or a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise op_error(RuntimeError(f"fill only supports 0-dimension value tensor but got "
                                        f"tensor with {value.ndim} dimensions."), "fill")
        return value.to(input.dtype).expand(tuple(input.shape)).clone()
    return creation.full_like(input, value)


def _resized(self, shape, op):
    shape = tuple(int(d) for d in shape)
    n = math.prod(shape)
    if n != self.numel():
        have = "x".join(str(d) for d in self.shape) or "[]"
        want = "x".join(str(d) for d in shape) or "[]"
        raise op_error(ShapeError(
            f"requested resize to {want} ({n} elements in total), but the given tensor has a "
            f"size of {have} ({self.numel()} elements). autograd's resize can only change the "
            "shape of a given tensor, while preserving the number of elements."), op)
    warnings.warn(f"non-inplace {op} is deprecated", stacklevel=3)
    return S.reshape(self, shape)


def resize(self, *sizes):
    """Deprecated out-of-place resize: a reshape that keeps the number of elements."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return _resized(self, sizes, "resize")


def resize_as(self, tensor, memory_format=None):
    return _resized(self, tuple(tensor.shape), "resize_as")


def float_power_(self, exponent):
    """In place, so self must already be float64: the dtype float_power computes in."""
    if self.dtype is not float64:
        kind = _SCALAR_TYPE.get(self.dtype.name, self.dtype.name.capitalize())
        raise RuntimeError(f"the base given to float_power_ has dtype {kind} but the "
                           "operation's result requires dtype Double")
    return self.copy_(MF.float_power(self, exponent))


# -- bytes -----------------------------------------------------------------------------------
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over a Python buffer's bytes (bytes, bytearray, memoryview, array).

    A writable buffer is shared, as in PyTorch: writes to either are seen by the other. A
    read-only one (bytes) is copied, where PyTorch shares it and warns that writing to it is
    undefined; the values are the same."""
    dtype = as_dtype(dtype)
    view = memoryview(buffer).cast("B")
    size, itemsize = view.nbytes, dtype.np.itemsize
    if size == 0 or count == 0:
        raise ValueError(f"both buffer length ({size}) and count ({count}) must not be 0")
    if offset < 0 or offset >= size:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({size} bytes) minus 1")
    if count < 0:
        if (size - offset) % itemsize:
            raise ValueError(f"buffer length ({size - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({itemsize})")
        count = (size - offset) // itemsize
    elif count * itemsize > size - offset:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({size} bytes)")
    array = np.frombuffer(view, dtype=dtype.np, count=count, offset=offset)
    if not array.flags.writeable:
        array = array.copy()
    out = creation.from_numpy(array)
    return out.requires_grad_(True) if requires_grad else out


# -- process-wide switches -------------------------------------------------------------------
def set_flush_denormal(mode):
    """PyTorch's answer on a CPU that cannot flush denormals: False, nothing changed.
    stepjit's NumPy and Numba code keeps IEEE subnormals, so its results do not depend on it."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False


def set_warn_always(b):
    """Warnings stepjit gives once per process (autocast's reduced precision) are given every
    time while this is on, as PyTorch's TORCH_WARN_ONCE."""
    _SETTINGS["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _SETTINGS["warn_always"]


METHODS = {
    "cfloat": cfloat, "cdouble": cdouble, "isreal": isreal, "resize": resize,
    "resize_as": resize_as, "float_power_": float_power_, "sinc": sinc, "i0": i0,
}
PROPERTIES = {"real": real, "imag": imag}


# -- random fills PyTorch has beside uniform_/normal_/exponential_ (inverse CDFs of uniforms) --
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    self._check_inplace("log_normal_")
    r = creation.randn(tuple(self.shape), dtype=self.dtype, generator=generator)
    return self._assign((r * std + mean).exp(), "log_normal_")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    self._check_inplace("cauchy_")
    u = creation.rand(tuple(self.shape), dtype=self.dtype, generator=generator)
    return self._assign(((u - 0.5) * math.pi).tan() * sigma + median, "cauchy_")


def geometric_(self, p, *, generator=None):
    """Trials up to the first success (1, 2, ...), in self's dtype."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    self._check_inplace("geometric_")
    u = creation.rand(tuple(self.shape), dtype=float64, generator=generator)
    draws = ((-u).log1p() / math.log1p(-p)).ceil().clamp(min=1.0)
    return self._assign(draws.to(self.dtype), "geometric_")


# -- index_reduce: scatter_reduce with one index per slice along dim -------------------------
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source's slices combined into the slices index names (prod, mean, amax,
    amin), as scatter_reduce of the index broadcast over the other dimensions."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if index.ndim > 1:
        raise op_error(ShapeError(f"index_reduce(): Index is supposed to be a vector, got "
                                  f"shape {list(index.shape)}"), "index_reduce")
    d = dim % max(input.ndim, 1)
    if source.ndim and source.shape[d] != index.shape[0]:
        raise op_error(ShapeError(
            f"index_reduce(): Expected source.size({dim}) == index.numel() but got "
            f"{source.shape[d]} vs {index.shape[0]} (source {list(source.shape)})"),
            "index_reduce")
    if source.ndim != input.ndim or any(a != b for i, (a, b) in enumerate(
            zip(source.shape, input.shape)) if i != d):
        raise op_error(ShapeError(
            f"index_reduce(): Source tensor shape must match self tensor shape, excluding the "
            f"specified dimension. Got self.shape = {list(input.shape)} source.shape = "
            f"{list(source.shape)}"), "index_reduce")
    shape = [1] * source.ndim
    if source.ndim:
        shape[d] = -1
    grid = index.reshape(shape).expand(*source.shape) if source.ndim else index
    return input.scatter_reduce(d, grid, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    self._check_inplace("index_reduce_")
    base = self._snapshot() if self.requires_grad or source.requires_grad else self
    return self._assign(index_reduce(base, dim, index, source, reduce,
                                     include_self=include_self), "index_reduce_")


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's indices, cut or padded with fill_value to exactly `size` rows."""
    found = input.nonzero()
    if found.shape[0] >= size:
        return found[:size]
    pad = creation.full((size - found.shape[0], input.ndim), fill_value, dtype=found.dtype)
    return S.cat([found, pad])


# -- DLPack: the exchange format NumPy speaks, so CPU tensors cross without a copy -----------
def from_dlpack(ext_tensor):
    """A tensor sharing the memory of any object with __dlpack__ (NumPy, JAX, CuPy on CPU)."""
    return creation.from_numpy(np.from_dlpack(ext_tensor))


def _dlpack(self, *args, **kwargs):
    return self.numpy().__dlpack__(*args, **kwargs)


def _dlpack_device(self):
    return self.numpy().__dlpack_device__()


METHODS.update({
    "log_normal_": log_normal_, "cauchy_": cauchy_, "geometric_": geometric_,
    "index_reduce": index_reduce, "index_reduce_": index_reduce_,
    "nonzero_static": nonzero_static, "__dlpack__": _dlpack,
    "__dlpack_device__": _dlpack_device,
})
PROPERTIES.update({name: (lambda self: False) for name in (
    "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_sparse_csr")})
PROPERTIES["output_nr"] = lambda self: self._output_nr or 0
