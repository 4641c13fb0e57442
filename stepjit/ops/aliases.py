"""PyTorch's other names for existing functions (`absolute`, `greater_equal`, `swapdims`...)
and the small conveniences built from them (`rsub`, `diagflat`, `hsplit`, `fill_diagonal_`,
the window functions, ...). Every one calls functions that exist already: no new op.
"""
from __future__ import annotations

import math
import warnings

from ..defaults import get_default_dtype
from ..errors import ShapeError, op_error
from ..ir.types import FLOAT, as_dtype, bool_
from . import elementwise as E, mathfns as MF, shape as S, stacking as ST
from .creation import arange, as_tensor, full, ones_like, tensor
from .tiling import diag

# name -> the function it is another name for (torch.name and Tensor.name alike)
ALIASES = {
    "absolute": E.abs, "arccosh": MF.acosh, "arcsinh": MF.asinh, "arctanh": MF.atanh,
    "less": E.lt, "less_equal": E.le, "greater": E.gt, "greater_equal": E.ge,
    "not_equal": E.ne, "multiply": E.mul, "subtract": E.sub, "swapdims": S.transpose,
}


def positive(input):
    if input.dtype is bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return E.sub(other, input, alpha=alpha)


def vdot(input, other):
    return S.dot(input, other)   # (real tensors: no conjugate to take)


def diagflat(input, offset=0):
    return diag(input.reshape(-1), offset)


def _split_along(input, sections, dim, least, name):
    if input.ndim < least:
        raise op_error(ShapeError(f"torch.{name} requires a tensor with at least {least} "
                                  f"dimension, but got a tensor with {input.ndim} dimensions!"),
                       name)
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise op_error(ShapeError(f"torch.{name} attempted to split along dimension {dim}, but "
                                  f"the size of the dimension {input.shape[dim]} is not "
                                  f"divisible by the split_size {sections}!"), name)
    return ST.tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 0 if input.ndim == 1 else 1, 1, "hsplit")


def vsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 2, 3, "dsplit")


def is_complex(input):
    return False   # stepjit has no complex dtypes


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.dtype.name not in ("uint8", "bool")


def isreal(input):
    return ones_like(input, dtype=bool_)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, **_):
    return tensor(s, dtype=dtype or get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """as_tensor, with copy=True forcing a copy (False/None: share where possible)."""
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy and out is obj:
        out = out.clone()
    if requires_grad:
        out.requires_grad_(True)
    return out


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """The deprecated torch.range: end included, default float dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    out = arange(n, dtype=dtype or get_default_dtype(), device=device) * step + start
    return out.requires_grad_(True) if requires_grad else out


def fill_diagonal_(self, fill_value, wrap=False):
    """Write fill_value on the main diagonal (every dimension's index equal; for a tall
    matrix with wrap=True, again every ncols + 1 rows, as NumPy's fill_diagonal)."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError("all dimensions of input must be of equal length" if self.ndim > 2
                           else "dimensions must larger than 1")
    rows = self.shape[0]
    n = min(self.shape) if self.ndim > 2 or not wrap else rows
    i = arange(n, device=self.device)
    if self.ndim == 2 and wrap and rows > self.shape[1]:
        i = i[(i % (self.shape[1] + 1)) < self.shape[1]]
        key = (i, i % (self.shape[1] + 1))
    else:
        i = i[:min(self.shape)]
        key = (i,) * self.ndim
    self[key] = fill_value
    return self


def sum_to_size(self, *size):
    """Sum self down to a shape it broadcasts from."""
    shape = S._sizes(size)
    lead = self.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, self.shape[lead:])):
        raise op_error(ShapeError(f"size {list(shape)} is not expandable to size "
                                  f"{list(self.shape)}"), "sum_to_size")
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(i for i, (n, m) in enumerate(zip(shape, out.shape)) if n == 1 and m != 1)
    return out.sum(dims, keepdim=True) if dims else out


# -- window functions (signal processing: the audio tutorials' spectrogram front ends) --------
def _window(length, periodic, dtype, device, requires_grad, name, fn):
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    dtype = as_dtype(dtype) if dtype is not None else get_default_dtype()
    if dtype.category != FLOAT:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype.name}")
    if length <= 1:
        out = full((length,), 1.0, dtype=dtype, device=device)
    else:
        n = length + 1 if periodic else length
        out = fn(arange(length, dtype=dtype, device=device), n)
    return out.requires_grad_(True) if requires_grad else out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad, _name="hann_window")


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False, _name="hamming_window"):
    return _window(window_length, periodic, dtype, device, requires_grad, _name,
                   lambda k, n: alpha - beta * (k * (2 * math.pi / (n - 1))).cos())


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    def fn(k, n):
        x = k * (2 * math.pi / (n - 1))
        return 0.42 - 0.5 * x.cos() + 0.08 * (2 * x).cos()
    return _window(window_length, periodic, dtype, device, requires_grad, "blackman_window", fn)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    def fn(k, n):
        x = k * (2.0 / (n - 1))
        return 1 - (x - 1).abs()
    return _window(window_length, periodic, dtype, device, requires_grad, "bartlett_window", fn)


__all__ = list(ALIASES) + ["positive", "rsub", "vdot", "diagflat", "hsplit", "vsplit",
                           "dsplit", "is_complex", "is_same_size", "is_signed", "isreal",
                           "scalar_tensor", "asarray", "hann_window", "hamming_window",
                           "blackman_window", "bartlett_window"]
globals().update(ALIASES)
