"""Tensor methods and operators, bound onto Tensor from the functions in stepjit.ops.

Kept as one table so that what a Tensor can do is readable in one place.
"""
from __future__ import annotations

import numpy as np

from .. import cuda as _cuda, dispatch, shared_memory
from ..autograd.grad_mode import STATE as GRAD
from ..ir import primitives as P
from ..errors import StepjitError, user_location
from ..ir.types import (
    FLOAT, as_dtype, bfloat16, bool_, float16, float32, float64, int8, int16, int32, int64,
    storage_dtype, uint8)
from ..tensor import Tensor
from . import bitwise as B, contract as C, convert, creation, elementwise as E, index as I, reduce as R
from . import legacy, scatter as SC, shape as S, sorting as SO, strided as ST_, tiling as TI


def _r(fn):
    """Reflected operator: `2 - x` is sub(2, x)."""
    return lambda self, other: fn(other, self)


def _tensor_operator(fn, reflected=False):
    """A binary operator defined only between tensors (`@`): any other operand gets
    NotImplemented, so Python raises its own TypeError ("unsupported operand type(s) for @:
    'list' and 'Tensor'"), as PyTorch's does."""
    def op(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)
    return op


def _numpy_operand(fn):
    """`t * a`, `t + a`, ... with `a` a NumPy array. PyTorch's operators decline the array and
    NumPy computes the result from the tensor's values, which the tensor's `__array_wrap__`
    makes a tensor again; so here, in the ops a trace records: NumPy's result type (float32
    with an int64 or a 0-d float64 array gives float64), both operands cast to it, and a tensor
    that requires grad refused as NumPy's `__array__` refuses it. Only the failure path reads
    the array: every other call is fn's own."""
    def op(self, other):
        try:
            return fn(self, other)
        except (TypeError, StepjitError):     # (a trace's TraceError is a StepjitError)
            traced = creation._array_argument(other)   # an array input of a step being traced
            if type(other) is not np.ndarray and not traced:
                raise
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        kind = np.result_type(self.dtype.np, other.dtype)
        operand = other.as_tensor(as_dtype(kind)) if traced else \
            creation.as_tensor(other.astype(kind, copy=False))
        out = fn(self.to(as_dtype(kind)), operand)
        return out.to(uint8) if kind == np.bool_ else out
    op.__name__ = fn.__name__
    return op


def _comparison(fn):
    """`==`, `!=`, `<`, ... with an operand that is neither a tensor nor a number (`None`, a
    string, a list) give NotImplemented, as PyTorch's do: Python then answers `t == None` with
    False and `t != None` with True (a sampling loop's `if idx_next == eos_id: break` with no
    end token), and raises its own TypeError for an ordering. t.eq(None) still raises."""
    def op(self, other):
        if not isinstance(other, _COMPARABLE) and getattr(type(other), "stands_for", None) is None \
                and getattr(other, "is_sparse", False) is not True:
            return NotImplemented
        return fn(self, other)
    return op


_COMPARABLE = (Tensor, bool, int, float, complex, np.generic, np.ndarray)


def _r_prim(prim):
    """Reflected operator that is one primitive: `2 * x` is apply(mul, 2, x), the call the
    forward function (E.mul, E.add with alpha=1, ...) would make, one frame less."""
    return lambda self, other: dispatch.apply(prim, other, self)


def _r_commutative(prim):
    """`2 * x` of a commutative primitive is x * 2, as PyTorch computes it: the tensor stays
    the first operand, so the graph a user walks (`(2 * x).grad_fn.next_functions[0][0]` is
    x's node, the introyt autograd tutorial's walk) has PyTorch's shape. Same values."""
    return lambda self, other: dispatch.apply(prim, self, other)


def _inplace(prim, name):
    def method(self, other, *rest, alpha=1):
        if rest:
            other, alpha = E._scaled(name, other, rest, alpha)
        if not E.unit(alpha):
            other = E.mul(other, alpha)
        return self._inplace(prim, other, op=name)
    method.__name__ = name
    return method


def _inplace_unary(prim, name, **attrs):
    def method(self):
        return self._inplace(prim, op=name, **attrs)
    method.__name__ = name
    return method


def _clamp_(self, min=None, max=None):
    self._check_inplace("clamp_")
    return self._assign(E.clamp(self._snapshot() if self.requires_grad else self, min, max), "clamp_")


def _fill_(self, value):
    self._check_inplace("fill_")
    if isinstance(value, Tensor):
        value = value.item()
    recording = GRAD.enabled and self.requires_grad
    if not recording and dispatch.fill_fast(self, value):
        return self
    return self._assign(creation.full_like(self, value), "fill_")


def _zero_(self):
    return _fill_(self, 0)


def _copy_(self, src, non_blocking=False):
    self._check_inplace("copy_")
    if not isinstance(src, Tensor):
        src = creation.tensor(src)
    src = S.expand(src, tuple(self.shape)) if tuple(src.shape) != tuple(self.shape) else src
    if src.dtype is not self.dtype:
        src = convert.cast(src, self.dtype)
    elif src._data is self._data:
        return self
    return self._assign(E.mul(src, 1) if src.requires_grad else src, "copy_")


def _uniform_(self, a=0.0, b=1.0, generator=None):
    if self.is_meta:   # nothing to write, and nothing drawn (PyTorch's meta tensors)
        return self
    r = creation.rand(tuple(self.shape), dtype=self.dtype, generator=generator)
    return self._assign(r * (b - a) + a, "uniform_")


def _normal_(self, mean=0.0, std=1.0, generator=None):
    if self.is_meta:
        return self
    r = creation.randn(tuple(self.shape), dtype=self.dtype, generator=generator)
    return self._assign(r * std + mean, "normal_")


def _bernoulli_(self, p=0.5, *, generator=None):
    prob = p if isinstance(p, Tensor) else None
    if prob is None and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    u = creation.rand(tuple(self.shape), generator=generator,
                      dtype=self.dtype if self.is_floating_point() else float64)
    return self._assign((u < (p if prob is None else prob)).to(self.dtype), "bernoulli_")


# random_() with no bounds: [0, 2**mantissa] for floats, [0, max] for integers (PyTorch's)
_RANDOM_HIGH = {"float32": 2 ** 24 + 1, "float64": 2 ** 53 + 1, "int32": 2 ** 31,
                "int64": 2 ** 63, "bool": 2}


def _random_(self, low=None, high=None, *, generator=None):
    """random_() / random_(to) / random_(from, to): integers in [from, to), in self's dtype."""
    if low is None:
        low, high = 0, _RANDOM_HIGH[self.dtype.name]
    elif high is None:
        low, high = 0, low
    dtype = int64 if self.dtype is bool_ else self.dtype
    r = creation.randint(low, high, tuple(self.shape), dtype=dtype, generator=generator)
    return self._assign(r.to(self.dtype), "random_")


def _exponential_(self, lambd=1.0, *, generator=None):
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = creation.rand(tuple(self.shape), dtype=self.dtype, generator=generator)
    return self._assign(-E.log1p(-u) / lambd, "exponential_")


def _masked_fill_(self, mask, value):
    self._check_inplace("masked_fill_")
    return self._assign(E.masked_fill(self._snapshot() if self.requires_grad else self, mask, value),
                        "masked_fill_")


def _new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
    return creation.full(tuple(size), fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_zeros(self, *size, dtype=None, requires_grad=False):
    return _new_full(self, creation._shape(size), 0, dtype=dtype, requires_grad=requires_grad)


def _new_ones(self, *size, dtype=None, requires_grad=False):
    return _new_full(self, creation._shape(size), 1, dtype=dtype, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, requires_grad=False):
    return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _type(self, dtype=None):
    if dtype is None:
        names = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor",
                 int32: "IntTensor", bool_: "BoolTensor", uint8: "ByteTensor",
                 int8: "CharTensor", int16: "ShortTensor", bfloat16: "BFloat16Tensor"}
        return "stepjit." + names[self.dtype]
    if isinstance(dtype, str) and dtype.rpartition(".")[2] in legacy.BY_NAME:
        dtype = legacy.BY_NAME[dtype.rpartition(".")[2]]      # "torch.LongTensor"
    return self.to(getattr(dtype, "dtype", None) or storage_dtype(dtype))


def _bitwise_operator(fn, reflected=False):
    """`x & 3`, `3 & x`: a tensor or a Python number (a float is refused by the op's dtype
    rule; anything else gets NotImplemented, so Python raises its TypeError, as for PyTorch)."""
    def op(self, other):
        if not isinstance(other, (Tensor, int, float)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)
    return op


def _bitwise_inplace(fn, name):
    def method(self, other):
        return self._assign(fn(self, other), name)
    method.__name__ = name
    return method


_BITWISE = {"and": B.bitwise_and, "or": B.bitwise_or, "xor": B.bitwise_xor,
            "lshift": B.bitwise_left_shift, "rshift": B.bitwise_right_shift}
_BITWISE_NAMES = {"and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
                  "lshift": "bitwise_left_shift", "rshift": "bitwise_right_shift"}
def _invert(self):
    """`~x`: PyTorch's operator refuses floats with a TypeError (bitwise_not, a
    NotImplementedError)."""
    if self.dtype.category == FLOAT:
        raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type "
                        f"tensors, got {self.dtype.name} (at {user_location()})")
    return B.bitwise_not(self)


BITWISE_METHODS = {"__invert__": _invert, "bitwise_not": B.bitwise_not,
                   "bitwise_not_": lambda self: self._assign(B.bitwise_not(self), "bitwise_not_"),
                   "logical_not_": lambda self: self._assign(B.logical_not(self), "logical_not_")}
for _k, _fn in _BITWISE.items():
    BITWISE_METHODS[f"__{_k}__"] = _bitwise_operator(_fn)
    BITWISE_METHODS[f"__r{_k}__"] = _bitwise_operator(_fn, reflected=True)
    BITWISE_METHODS[f"__i{_k}__"] = _bitwise_inplace(_fn, _BITWISE_NAMES[_k] + "_")
    BITWISE_METHODS[_BITWISE_NAMES[_k]] = _fn
    BITWISE_METHODS[_BITWISE_NAMES[_k] + "_"] = _bitwise_inplace(_fn, _BITWISE_NAMES[_k] + "_")


def _where(self, condition, y):
    return E.where(condition, self, y)


def _pin_memory(self, device=None):
    """Pinned (page-locked) memory speeds host-to-GPU copies; stepjit copies to the GPU through
    numba, so where CUDA runs the tensor itself is returned (as PyTorch returns an already
    pinned one). Without an accelerator PyTorch refuses, and so does stepjit."""
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    return self


def _new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    """Uninitialized memory in PyTorch; zeros here (a defined value costs nothing extra)."""
    return _new_full(self, creation._shape(size), 0, dtype=dtype, requires_grad=requires_grad)


@S.sizes_by_keyword("dims")
def _flip(self, *dims):
    """Tensor.flip(0, 1), Tensor.flip((0, 1)) and Tensor.flip(dims=(0, 1)) alike."""
    if not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    return S.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


def _stride(self, dim=None):
    """Strides in elements: the array's own where it is one (a transposed or expanded view
    has PyTorch's strides), row-major for a traced value, which has no layout of its own."""
    d = self._data
    if hasattr(d, "strides") and hasattr(d, "itemsize"):
        st = tuple(s // d.itemsize for s in d.strides)
    else:
        st, n = [], 1
        for size in reversed(tuple(self.shape)):
            st.insert(0, n)
            n *= max(size, 1)
        st = tuple(st)
    if dim is None:
        return st
    return st[S._dim(dim, self.ndim, "stride")]


def _reshape_(self, view):
    """t_, unsqueeze_, squeeze_, transpose_: self becomes the view of itself, taking over its
    autograd history (the view's backward leads back to self's old history)."""
    if GRAD.enabled and self.requires_grad and self.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    dispatch.replace_data(self, view)
    if view.requires_grad:
        self._grad_fn, self._output_nr = view._grad_fn, view._output_nr
    return self


def _data_ptr(self):
    return int(self.detach().numpy().__array_interface__["data"][0]) if \
        self.device.type == "cpu" else 0


METHODS = {
    "pin_memory": _pin_memory, "is_pinned": lambda self, device=None: False,
    "new_empty": _new_empty, "data_ptr": _data_ptr,
    # arithmetic and comparison operators
    "__add__": _numpy_operand(E.add), "__radd__": _r_commutative(P.add),
    "__sub__": _numpy_operand(E.sub), "__rsub__": _r_prim(P.sub),
    "__mul__": _numpy_operand(E.mul), "__rmul__": _r_commutative(P.mul),
    "__truediv__": _numpy_operand(E.div), "__rtruediv__": _r_prim(P.div),
    "__floordiv__": _numpy_operand(E.floor_divide), "__rfloordiv__": _r(E.floor_divide),
    "__mod__": _numpy_operand(E.remainder), "__rmod__": _r(E.remainder),
    "remainder": E.remainder, "fmod": E.fmod,
    "__pow__": _numpy_operand(E.pow), "__rpow__": _r_prim(P.pow), "__matmul__": _tensor_operator(S.matmul),
    "__rmatmul__": _tensor_operator(S.matmul, reflected=True),
    "__neg__": E.neg, "__pos__": lambda self: self, "__abs__": E.abs,
    "__eq__": _comparison(E.eq), "__ne__": _comparison(E.ne), "__lt__": _comparison(E.lt),
    "__le__": _comparison(E.le), "__gt__": _comparison(E.gt), "__ge__": _comparison(E.ge),
    **BITWISE_METHODS,
    "__getitem__": I.getitem, "__setitem__": I.setitem,
    "__iadd__": _inplace(P.add, "add_"), "__isub__": _inplace(P.sub, "sub_"),
    "__imul__": _inplace(P.mul, "mul_"), "__itruediv__": _inplace(P.div, "div_"),
    # named elementwise
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul,
    "div": E.div, "divide": E.div, "true_divide": E.div, "pow": E.pow, "neg": E.neg,
    "negative": E.neg, "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt,
    "rsqrt": E.rsqrt, "sin": E.sin, "cos": E.cos, "tanh": E.tanh, "sigmoid": E.sigmoid,
    "relu": E.relu, "abs": E.abs, "sign": E.sign, "floor": E.floor, "ceil": E.ceil,
    "round": E.round, "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum,
    "minimum": E.minimum, "reciprocal": E.reciprocal, "square": E.square,
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "logical_not": E.logical_not, "logical_and": E.logical_and, "logical_or": E.logical_or,
    "where": _where, "masked_fill": E.masked_fill, "lerp": E.lerp,
    "addcmul": E.addcmul, "addcdiv": E.addcdiv, "floor_divide": E.floor_divide,
    "log2": E.log2, "log10": E.log10, "expm1": E.expm1, "erf": E.erf, "erfc": E.erfc,
    "erfinv": E.erfinv,
    "lgamma": E.lgamma, "digamma": E.digamma, "mvlgamma": E.mvlgamma,
    "polygamma": lambda self, n: E.polygamma(n, self),
    "logical_xor": E.logical_xor, "clamp_min": E.clamp_min, "clamp_max": E.clamp_max,
    "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite, "isposinf": E.isposinf,
    "isneginf": E.isneginf, "nan_to_num": E.nan_to_num, "isclose": E.isclose,
    "allclose": E.allclose, "equal": E.equal,
    # in place
    "add_": _inplace(P.add, "add_"), "sub_": _inplace(P.sub, "sub_"),
    "mul_": _inplace(P.mul, "mul_"), "div_": _inplace(P.div, "div_"),
    "pow_": _inplace(P.pow, "pow_"), "relu_": _inplace_unary(P.relu, "relu_"),
    "exp_": _inplace_unary(P.exp, "exp_"), "neg_": _inplace_unary(P.neg, "neg_"),
    "sqrt_": _inplace_unary(P.sqrt, "sqrt_"), "sigmoid_": _inplace_unary(P.sigmoid, "sigmoid_"),
    "tanh_": _inplace_unary(P.tanh, "tanh_"), "abs_": _inplace_unary(P.abs, "abs_"),
    "clamp_": _clamp_, "clip_": _clamp_, "zero_": _zero_, "fill_": _fill_, "copy_": _copy_,
    "uniform_": _uniform_, "normal_": _normal_, "bernoulli_": _bernoulli_, "random_": _random_,
    "exponential_": _exponential_,
    "multinomial": creation.multinomial, "bernoulli": creation.bernoulli,
    "masked_fill_": _masked_fill_,
    "addcmul_": lambda self, t1, t2, *rest, value=1: self.copy_(
        E.addcmul(self, t1, t2, *rest, value=value)),
    "addcdiv_": lambda self, t1, t2, *rest, value=1: self.copy_(
        E.addcdiv(self, t1, t2, *rest, value=value)),
    "log2_": _inplace_unary(P.log2, "log2_"), "log10_": _inplace_unary(P.log10, "log10_"),
    "expm1_": _inplace_unary(P.expm1, "expm1_"), "erf_": _inplace_unary(P.erf, "erf_"),
    "erfinv_": _inplace_unary(P.erfinv, "erfinv_"),
    "lgamma_": _inplace_unary(P.lgamma, "lgamma_"),
    "digamma_": _inplace_unary(P.digamma, "digamma_"),
    "clamp_min_": lambda self, min: _clamp_(self, min=min),
    "clamp_max_": lambda self, max: _clamp_(self, max=max),
    "scatter_": SC.scatter_, "scatter_add_": SC.scatter_add_, "index_add_": SC.index_add_,
    "index_copy_": SC.index_copy_, "index_fill_": SC.index_fill_,
    "tril_": lambda self, diagonal=0: self.copy_(TI.tril(self, diagonal)),
    "triu_": lambda self, diagonal=0: self.copy_(TI.triu(self, diagonal)),
    # reductions
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "amax": R.amax, "amin": R.amin,
    "max": R.max, "min": R.min, "argmax": R.argmax, "argmin": R.argmin,
    "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    "all": R.all, "any": R.any, "norm": R.norm, "prod": R.prod, "count_nonzero": R.count_nonzero,
    "cumsum": SO.cumsum, "cumprod": SO.cumprod, "sort": SO.sort, "argsort": SO.argsort,
    "topk": SO.topk, "msort": SO.msort, "kthvalue": SO.kthvalue, "unique": SO.unique,
    "unique_consecutive": SO.unique_consecutive, "bincount": SO.bincount,
    # shape
    "reshape": S.reshape, "view": S.view, "flatten": S.flatten, "unflatten": S.unflatten,
    "permute": S.permute, "transpose": S.transpose, "swapaxes": S.transpose, "t": S.t,
    "unsqueeze": S.unsqueeze, "squeeze": S.squeeze, "expand": S.expand,
    "expand_as": S.expand_as, "broadcast_to": S.expand, "split": S.split, "chunk": S.chunk,
    "narrow": S.narrow, "unbind": S.unbind, "matmul": S.matmul, "mm": S.mm, "mv": S.mv, "bmm": S.bmm,
    "dot": S.dot, "outer": S.outer, "flip": _flip, "movedim": S.movedim, "moveaxis": S.movedim,
    "repeat": TI.repeat, "tile": TI.tile, "repeat_interleave": TI.repeat_interleave,
    "roll": TI.roll, "tril": TI.tril, "triu": TI.triu, "diagonal": TI.diagonal, "diag": TI.diag,
    "diag_embed": TI.diag_embed, "trace": TI.trace,
    "addmm": C.addmm, "baddbmm": C.baddbmm, "addbmm": C.addbmm, "addmv": C.addmv, "addr": C.addr,
    "as_strided": ST_.as_strided, "unfold": S.unfold, "select": S.select,
    "t_": lambda self: _reshape_(self, S.t(self)),
    "unsqueeze_": lambda self, dim: _reshape_(self, S.unsqueeze(self, dim)),
    "squeeze_": lambda self, *dim: _reshape_(self, S.squeeze(self, *dim)),
    "transpose_": lambda self, d0, d1: _reshape_(self, S.transpose(self, d0, d1)),
    "view_as": lambda self, other: S.reshape(self, tuple(other.shape)),
    "reshape_as": lambda self, other: S.reshape(self, tuple(other.shape)),
    "resize_": S.resize_, "resize_as_": S.resize_as_,
    # indexing
    "gather": I.gather, "index_select": I.index_select, "nonzero": I.nonzero,
    "take_along_dim": I.take_along_dim, "index_put_": I.index_put_, "index_put": I.index_put,
    "masked_select": I.masked_select, "scatter": SC.scatter, "scatter_add": SC.scatter_add,
    "scatter_reduce": SC.scatter_reduce, "scatter_reduce_": SC.scatter_reduce_,
    "index_add": SC.index_add, "index_copy": SC.index_copy, "index_fill": SC.index_fill,
    # copies, dtypes, factories
    "clone": lambda self, *, memory_format=None: E.apply(P.copy, self),
    "stride": _stride,
    "float": lambda self: self.to(float32), "double": lambda self: self.to(float64),
    "long": lambda self: self.to(int64), "int": lambda self: self.to(int32),
    "short": lambda self: self.to(int16), "char": lambda self: self.to(int8),
    "byte": lambda self: self.to(uint8),
    "bool": lambda self: self.to(bool_), "type": _type,
    "type_as": lambda self, other: self.to(other.dtype),
    "new_zeros": _new_zeros, "new_ones": _new_ones, "new_full": _new_full,
    "new_tensor": _new_tensor,
}

# Math, statistics, products and linear algebra beyond the core (stepjit/ops/mathfns.py, ...)
from . import mathfns as MF, products as PR, search as SE, stacking as ST, stats as STA  # noqa: E402
from . import sample_stats as SS, series as SR  # noqa: E402
from .. import linalg as LA  # noqa: E402  (torch.inverse, torch.cholesky, ... as methods)
from .complex_numbers import angle as _angle  # noqa: E402  (a real tensor's: complex has its own)
METHODS.update({
    "angle": _angle,
    "atan2": MF.atan2, "arctan2": MF.atan2, "atan": MF.atan, "arctan": MF.atan, "asin": MF.asin,
    "arcsin": MF.asin, "acos": MF.acos, "arccos": MF.acos, "tan": MF.tan, "sinh": MF.sinh,
    "cosh": MF.cosh, "asinh": MF.asinh, "acosh": MF.acosh, "atanh": MF.atanh,
    "hypot": MF.hypot, "logaddexp": MF.logaddexp, "logaddexp2": MF.logaddexp2,
    "trunc": MF.trunc, "fix": MF.trunc, "frac": MF.frac, "logit": MF.logit, "xlogy": MF.xlogy,
    "sgn": MF.sgn, "signbit": MF.signbit, "heaviside": MF.heaviside, "deg2rad": MF.deg2rad,
    "rad2deg": MF.rad2deg, "copysign": MF.copysign, "fmax": MF.fmax, "fmin": MF.fmin,
    "float_power": MF.float_power, "exp2": E.exp2, "ravel": S.ravel, "aminmax": R.aminmax,
    "quantile": SS.quantile, "nanquantile": SS.nanquantile, "cov": SS.cov,
    "corrcoef": SS.corrcoef,
    "median": STA.median, "nanmedian": STA.nanmedian, "mode": STA.mode, "cummax": STA.cummax,
    "cummin": STA.cummin, "logcumsumexp": STA.logcumsumexp, "histc": STA.histc, "histogram": STA.histogram,
    "dist": STA.dist,
    "kron": PR.kron, "cross": PR.cross, "tensor_split": ST.tensor_split, "rot90": ST.rot90,
    "fliplr": ST.fliplr, "flipud": ST.flipud, "isin": SE.isin, "take": SE.take,
    "argwhere": SE.argwhere,
    "inverse": LA.inv, "det": LA.det, "logdet": LA.logdet, "cholesky": LA.cholesky_legacy,
    "qr": lambda self, some=True: tuple(E.apply(p, self, mode="reduced" if some else "complete")
                                        for p in (P.qr_q, P.qr_r)),
    "lu": LA.lu_legacy, "lu_solve": LA.lu_solve_legacy,
    "nansum": SR.nansum, "nanmean": SR.nanmean, "diff": SR.diff, "inner": SR.inner,
    "matrix_power": SR.matrix_power, "ger": S.outer, "gcd": MF.gcd, "lcm": MF.lcm,
})


def _inplace_of(fn, name):
    """x.op_() for a composite op: computed out of place, then stored (autograd sees copy_)."""
    def method(self, *args, **kwargs):
        self._check_inplace(name)
        # the op may save self for its gradient (atan2_(y) with y requiring grad): it gets a
        # copy whenever a gradient can flow, so the store below does not change what it saved
        tracked = self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad
                                            for a in args)
        return self._assign(fn(self._snapshot() if tracked else self, *args, **kwargs), name)
    method.__name__ = name
    return method


METHODS.update({name + "_": _inplace_unary(getattr(P, name), name + "_")
                for name in ("log", "sin", "cos", "floor", "ceil", "round", "sign", "log1p")})
METHODS.update({
    "trunc_": _inplace_of(MF.trunc, "trunc_"), "frac_": _inplace_of(MF.frac, "frac_"),
    "reciprocal_": _inplace_of(E.reciprocal, "reciprocal_"),
    "rsqrt_": _inplace_of(E.rsqrt, "rsqrt_"), "square_": _inplace_of(E.square, "square_"),
    "lerp_": _inplace_of(E.lerp, "lerp_"), "atan2_": _inplace_of(MF.atan2, "atan2_"),
    "hypot_": _inplace_of(MF.hypot, "hypot_"), "logit_": _inplace_of(MF.logit, "logit_"),
    "gcd_": _inplace_of(MF.gcd, "gcd_"), "lcm_": _inplace_of(MF.lcm, "lcm_"),
})



from . import spellings as SP, typing_rules as TR  # noqa: E402
METHODS.update({
    "absolute": E.abs, "arccosh": MF.acosh, "arcsinh": MF.asinh, "arctanh": MF.atanh,
    "greater": E.gt, "greater_equal": E.ge, "less": E.lt, "less_equal": E.le,
    "not_equal": E.ne, "swapdims": S.transpose, "positive": SP.positive,
    "is_complex": SP.is_complex, "is_conj": SP.is_conj, "is_neg": SP.is_neg,
    "is_inference": SP.is_inference, "conj": SP.conj, "resolve_conj": SP.conj,
    "resolve_neg": SP.conj, "is_signed": SP.is_signed, "is_same_size": SP.is_same_size,
    "is_nonzero": TR.is_nonzero, "get_device": SP.get_device, "vdot": SP.vdot,
    "diagflat": SP.diagflat, "hsplit": SP.hsplit, "vsplit": SP.vsplit, "dsplit": SP.dsplit,
    "split_with_sizes": SP.split_with_sizes, "sum_to_size": SP.sum_to_size,
    "fill_diagonal_": SP.fill_diagonal_, "svd": LA.svd_legacy, "slogdet": LA.slogdet_legacy,
    "pinverse": LA.pinverse, "matrix_exp": LA.matrix_exp,
    "cholesky_inverse": LA.cholesky_inverse, "cholesky_solve": LA.cholesky_solve,
    "triangular_solve": LA.triangular_solve,
    "masked_scatter": SP.masked_scatter, "select_scatter": SP.select_scatter,
    "slice_scatter": SP.slice_scatter, "diagonal_scatter": SP.diagonal_scatter,
    "ldexp": SP.ldexp, "renorm": SP.renorm, "narrow_copy": SP.narrow_copy, "put": SP.put,
    "new": SP.new, "adjoint": SP.adjoint, "unsafe_chunk": S.chunk, "unsafe_split": S.split,
    "half": lambda self, memory_format=None: self.to(float16),
    "bfloat16": lambda self, memory_format=None: self.to(bfloat16),
})
# In-place forms PyTorch has of ops above: computed out of place, stored in self's dtype
# (`x.gt_(y)` leaves 1.0 and 0.0 in a float x).
METHODS.update({name + "_": _inplace_of(METHODS[name], name + "_") for name in (
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "absolute", "multiply", "subtract", "divide", "true_divide", "fmod",
    "remainder", "floor_divide", "copysign", "logical_and", "logical_or", "logical_xor",
    "sgn", "heaviside", "addmm", "addbmm", "baddbmm", "addmv", "addr", "arccosh",
    "arcsinh", "arctanh", "masked_scatter", "put", "ldexp", "renorm")})
METHODS.update({"cumsum_": _inplace_of(lambda x, dim, *, dtype=None: SO.cumsum(x, dim), "cumsum_"),
                "cumprod_": _inplace_of(lambda x, dim, *, dtype=None: SO.cumprod(x, dim),
                                        "cumprod_")})


def _inplace_method_of(name):
    """x.name_() from the out-of-place method x.name(): for the unary math PyTorch also
    offers in place (x.asin_(), x.nan_to_num_(), ...)."""
    return _inplace_of(lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs), name + "_")


# The unary math PyTorch offers in place both as x.name_() and as torch.name_(x).
_MATH_INPLACE = (
    "asin", "acos", "atan", "arcsin", "arccos", "arctan", "tan", "sinh", "cosh", "asinh",
    "acosh", "atanh", "exp2", "erfc", "nan_to_num", "negative", "deg2rad", "rad2deg",
    "xlogy", "fix")
METHODS.update({name + "_": _inplace_method_of(name) for name in _MATH_INPLACE})

# PyTorch's function forms of in-place methods (torch.sin_(x) is x.sin_(); the introyt tensors
# tutorial calls torch.sin_): api.py exports one per name. Not every x.name_() has one in
# PyTorch (torch.add_ does not exist), so the rest are named here.
INPLACE_FUNCTIONS = tuple(name + "_" for name in _MATH_INPLACE) + (
    "abs_", "ceil_", "clamp_", "gcd_", "lcm_", "clamp_max_", "clamp_min_", "clip_", "cos_", "detach_", "erf_",
    "exp_", "expm1_", "fill_", "floor_", "frac_", "index_put_", "log10_", "log1p_", "log2_",
    "log_", "logit_", "neg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_",
    "sqrt_", "square_", "tanh_", "trunc_", "zero_")


def inplace_function(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"stepjit.{name}(input, ...) is input.{name}(...), as in PyTorch."
    return fn


# Sparse COO conversions (stepjit/ops/sparse.py); a dense tensor's to_dense() is itself
from . import sparse as _sparse  # noqa: E402
METHODS.update({"to_sparse": _sparse.to_sparse, "to_sparse_coo": _sparse.to_sparse,
                "to_dense": lambda self, dtype=None: self if dtype is None else self.to(dtype)})

def _share_memory_(self):
    """Move the data to memory shared between processes (stepjit/shared_memory.py); a no-op
    when it is there already, and for CUDA tensors (as PyTorch's)."""
    if self.is_shared() or _cuda.is_device_array(self._data):
        return self
    if self._base is not None:
        raise RuntimeError("share_memory_: this tensor is a view of another; share the tensor it "
                           "views instead")
    self._data = shared_memory.share_array(self._data)
    return self


def _is_shared(self):
    return isinstance(self._data, np.ndarray) and shared_memory.segment_of(self._data) is not None


METHODS.update({"share_memory_": _share_memory_, "is_shared": _is_shared})

# The memory behind a tensor, as PyTorch shows it (stepjit/storage.py)
from .. import storage as _storage  # noqa: E402
METHODS.update({"storage": _storage.storage, "untyped_storage": _storage.untyped_storage,
                "storage_offset": _storage.storage_offset})

PROPERTIES = {"T": S.T, "mT": S.mT, "mH": S.mT, "H": SP.H}

# Less common methods (stepjit/ops/extras.py) and in-place spellings of methods above
from . import extras as X  # noqa: E402
METHODS.update(X.METHODS)
METHODS.update({
    "sinc_": _inplace_of(X.sinc, "sinc_"), "arctan2_": _inplace_of(MF.atan2, "arctan2_"),
    "i0_": _inplace_of(X.i0, "i0_"),
    "swapaxes_": lambda self, d0, d1: _reshape_(self, S.transpose(self, d0, d1)),
    "swapdims_": lambda self, d0, d1: _reshape_(self, S.transpose(self, d0, d1)),
})
PROPERTIES.update(X.PROPERTIES)
from . import removed as _removed  # noqa: E402
METHODS.update(_removed.METHODS)
METHODS.update({name + "_": _inplace_method_of(name) for name in ("polygamma", "mvlgamma")})


def bind():
    from .axis_alias import accepting_axis
    for name, fn in METHODS.items():
        setattr(Tensor, name, accepting_axis(fn))
    for name, fn in PROPERTIES.items():
        setattr(Tensor, name, property(fn))
