"""PyTorch's other spellings of ops stepjit has, and the small composites scripts reach for
beside them (`torch.greater`, `x.absolute_()`, `torch.conv2d`, `torch.hsplit`, the signal
windows): each is a name bound to an existing op or a decomposition into existing ops, never a
second implementation. methods.py binds the METHODS here on Tensor; api.py exports FUNCTIONS.

The `torch.*` forms of nn.functional ops keep PyTorch's own signatures where they differ from
F's: `torch.dropout(input, p, train)` has no defaults, `torch.embedding(weight, indices)` takes
the weight first, `torch.batch_norm` and `torch.instance_norm` take the affine weight before the
running statistics and a trailing `cudnn_enabled`.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..defaults import get_default_dtype, set_default_device, set_default_dtype
from ..errors import ShapeError, op_error
from ..ir.types import FLOAT, as_dtype, bool_, uint8
from ..tensor import Size, Tensor
from . import creation, elementwise as E, index as I, mathfns as MF, reduce as R
from . import sorting as SO, stacking as ST
from . import shape as S
from .legacy import BY_NAME
from .tiling import diag


# -- comparisons and arithmetic under their other names -----------------------------------------
greater, greater_equal, less, less_equal, not_equal = E.gt, E.ge, E.lt, E.le, E.ne
absolute = E.abs
arccosh, arcsinh, arctanh = MF.acosh, MF.asinh, MF.atanh
swapdims = S.transpose


def positive(input):
    if input.dtype is bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


# -- predicates a real-valued tensor answers ----------------------------------------------------
def is_complex(input):
    return input.dtype.is_complex   # (complex tensors: ops/complex_numbers.py)


def is_conj(input):
    return False


def is_neg(input):
    return False


def is_inference(input):
    return False


def conj(input):
    """The conjugate of a real tensor is itself (PyTorch returns the same tensor); a complex
    tensor's is its own method's (ops/complex_numbers.py)."""
    return input.conj() if input.dtype.is_complex else input


resolve_conj = resolve_neg = conj


def is_signed(input):
    return input.dtype not in (bool_, uint8)


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def get_device(input):
    """-1 for a CPU tensor, the device index for a CUDA one (as PyTorch)."""
    return input.device.index if input.device.type == "cuda" else -1


# -- small composites ------------------------------------------------------------------------------
def vdot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise op_error(ShapeError(f"1D tensors expected, but got {input.ndim}D and "
                                  f"{other.ndim}D tensors"), "vdot")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found "
                           f"{input.dtype.name.capitalize()} and {other.dtype.name.capitalize()}")
    return S.dot(input, other)


def diagflat(input, offset=0):
    return diag(S.reshape(input, (-1,)), offset)


def split_with_sizes(input, split_sizes, dim=0):
    return S.split(input, list(split_sizes), dim)


def _split_along(name, dim, min_ndim):
    def fn(input, indices_or_sections):
        if input.ndim < min_ndim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} "
                               f"dimension{'s' if min_ndim > 1 else ''}, but got a tensor with "
                               f"{input.ndim} dimensions!")
        d = 0 if name == "hsplit" and input.ndim == 1 else dim
        if isinstance(indices_or_sections, int):
            n = input.shape[d]
            if indices_or_sections == 0 or n % indices_or_sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but "
                                   f"the size of the dimension {n} is not divisible by the "
                                   f"split_size {indices_or_sections}!")
        return tuple(ST.tensor_split(input, indices_or_sections, d))
    fn.__name__ = fn.__qualname__ = name
    return fn


hsplit = _split_along("hsplit", 1, 1)
vsplit = _split_along("vsplit", 0, 2)
dsplit = _split_along("dsplit", 2, 3)


def sum_to_size(input, *size):
    """Sum input down to `size`, which input's shape must broadcast from."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    ok = lead >= 0 and all(s in (1, n) for s, n in zip(size, shape[lead:]))
    if not ok:
        raise op_error(ShapeError(f"size {list(size)} is not expandable to size "
                                  f"{list(shape)}"), "sum_to_size")
    out = input.sum(tuple(range(lead))) if lead else input
    dims = tuple(i for i, (s, n) in enumerate(zip(size, shape[lead:])) if s == 1 and n != 1)
    return out.sum(dims, keepdim=True) if dims else out


def fill_diagonal_(input, fill_value, wrap=False):
    """The main diagonal set to fill_value, in place; a tall matrix's diagonal restarts below
    the square with wrap=True (NumPy's fill_diagonal picks the same elements)."""
    if input.ndim < 2:
        raise RuntimeError(f"dimensions must larger than 1, got {input.ndim}")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(tuple(input.shape), dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return input.masked_fill_(Tensor._make(mask), fill_value)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    return creation.tensor(s, dtype=dtype or get_default_dtype(), device=device,
                           requires_grad=requires_grad)


# -- signal windows (torch.hann_window, ...): PyTorch's formulas, in float64 --------------------
def _window(name, length, periodic, dtype, device, requires_grad, values):
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    dtype = as_dtype(dtype) if dtype is not None else get_default_dtype()
    if dtype.category != FLOAT:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype.name}")
    if length <= 1:
        w = np.ones(length)
    else:
        n = np.arange(length, dtype=np.float64)
        w = values(n, length if periodic else length - 1)
    return creation.tensor(w, dtype=dtype, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.5 - 0.5 * np.cos(2 * math.pi * n / m))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: alpha - beta * np.cos(2 * math.pi * n / m))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.42 - 0.5 * np.cos(2 * math.pi * n / m)
                   + 0.08 * np.cos(4 * math.pi * n / m))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 1 - np.abs(2 * n / m - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / m - 1) ** 2, 0, None)))
                   / np.i0(beta))


WINDOWS = ("hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window")


# -- creation under PyTorch's other names -------------------------------------------------------
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor from obj, sharing its memory where it can: a tensor is returned as it is (or
    converted), a NumPy array is shared as from_numpy shares it (its dtype kept), anything
    else is read as `torch.tensor` reads it."""
    if isinstance(obj, Tensor):
        out = obj if dtype is None and device is None else obj.to(dtype=dtype, device=device)
        out = out.clone() if copy and out is obj else out
    elif isinstance(obj, np.ndarray) and not copy and (
            dtype is None or as_dtype(dtype).np == obj.dtype):
        out = creation.from_numpy(obj)
        out = out if device is None else out.to(device)
    else:
        out = creation.tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """The deprecated torch.range: `end` included, the default float dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    if n < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    values = start + step * np.arange(n, dtype=np.float64)
    return creation.tensor(values, dtype=dtype or get_default_dtype(), device=device,
                           requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **kw):
    """Uninitialized in PyTorch, zeros here; the layout is stepjit's own (strides are not a
    promise a program can observe through values)."""
    return creation.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def set_default_tensor_type(t):
    """The deprecated default: `torch.FloatTensor`/`torch.DoubleTensor` (or their names, with
    `torch.cuda.` for the device) set the default dtype, and the device for CUDA names."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", "")
    short = name.rsplit(".", 1)[-1]
    if short not in BY_NAME:
        raise TypeError(f"invalid type: '{name}'")
    set_default_dtype(BY_NAME[short].dtype)
    if ".cuda." in f".{name}":
        set_default_device("cuda")


# -- in-place writes into copies (the *_scatter ops) and other composites ------------------------
def rsub(input, other, alpha=1):
    return E.sub(other, input, alpha=alpha)


def masked_scatter(input, mask, source):
    """source's first elements, in order, where mask holds; input elsewhere."""
    if mask.dtype is not bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype.name}")
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    mask = S.expand(mask, shape)
    n = source.numel()
    picks = SO.cumsum(S.reshape(mask, (-1,)).long(), 0) - 1
    taken = I.index_select(S.reshape(source, (-1,)), 0, picks.clamp(0, max(n - 1, 0)))
    return E.where(mask, S.reshape(taken, shape), input)


def _scatter_into(input, src, view, op):
    """A copy of input with the elements `view` picks replaced by src, differentiable in both:
    the positions are found by applying the view to an array of flat positions (NumPy's
    select, slice and diagonal pick what PyTorch's do, in the same order)."""
    at = view(np.arange(input.numel()).reshape(tuple(input.shape)))
    if tuple(at.shape) != tuple(src.shape):
        raise op_error(ShapeError(f"expected src to have a size equal to the slice of self. "
                                  f"src size = {list(src.shape)}, slice size = "
                                  f"{list(at.shape)}"), op)
    positions = Tensor._make(np.ascontiguousarray(at).reshape(-1))
    flat = I.index_put(S.reshape(input, (-1,)), (positions,),
                       S.reshape(src.to(input.dtype), (-1,)))
    return S.reshape(flat, tuple(input.shape))


def select_scatter(input, src, dim, index):
    return _scatter_into(input, src, lambda a: np.take(a, index, axis=dim), "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    def view(a):
        key = [slice(None)] * a.ndim
        key[dim] = slice(start, end, step)
        return a[tuple(key)]
    return _scatter_into(input, src, view, "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    return _scatter_into(input, src, lambda a: np.diagonal(a, offset, dim1, dim2),
                         "diagonal_scatter")


def ldexp(input, other):
    return E.mul(input, E.pow(2.0, other))


def renorm(input, p, dim, maxnorm):
    """Each slice along dim whose p-norm exceeds maxnorm scaled down to it (PyTorch's 1e-7)."""
    d = dim % input.ndim
    others = tuple(i for i in range(input.ndim) if i != d)
    norm = R.norm(input, p, others, keepdim=True)
    scale = E.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * scale


def narrow_copy(input, dim, start, length):
    return S.narrow(input, dim, start, length).clone()


def put(input, index, source, accumulate=False):
    flat = S.reshape(input, (-1,))
    return S.reshape(I.index_put(flat, (S.reshape(index, (-1,)),), S.reshape(source, (-1,)),
                                 accumulate), tuple(input.shape))


def new(self, *args, **kwargs):
    """The legacy x.new(...): x's legacy constructor (sizes, data or a tensor) in x's dtype."""
    if not args:
        return creation.zeros(0, dtype=self.dtype, device=self.device)
    if all(isinstance(a, int) for a in args):
        return creation.zeros(*args, dtype=self.dtype, device=self.device)
    if len(args) == 1 and isinstance(args[0], Size):      # (a Size is a shape, a tuple data)
        return creation.zeros(*args[0], dtype=self.dtype, device=self.device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]
    return creation.tensor(args[0], dtype=self.dtype, device=self.device)


def adjoint(input):
    return S.transpose(input, -2, -1)


def H(input):
    """The conjugate transpose: a real matrix's transpose (0-D and 2-D only, as PyTorch)."""
    if input.ndim not in (0, 2):
        raise op_error(ShapeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                                  f"{input.ndim}-D tensor."), "H")
    return input if input.ndim == 0 else S.transpose(input, 0, 1)
