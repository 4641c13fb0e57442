"""Elementwise tensor functions, PyTorch signatures over the elementwise primitives."""
from __future__ import annotations

import math
import numbers
import os
import sys
import warnings

import numpy as np

from ..dispatch import apply, aval_of
from ..ir import primitives as P
from ..errors import DTypeError, user_location
from ..ir.types import FLOAT, uint8
from ..tensor import Tensor
from ..ir.primitives.shapes import arith_rule
from .bitwise import logical_and, logical_not, logical_or, logical_xor  # noqa: F401
from .index import nonzero


def _binary(prim):
    def fn(input, other):
        return apply(prim, input, other)
    fn.__name__ = prim.name
    return fn


def _unary(prim):
    def fn(input):
        return apply(prim, input)
    fn.__name__ = prim.name
    return fn


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def deprecated_scale(name, scale, operands):
    """PyTorch still takes the scale first, as older programs and optimizers pass it
    (`add(x, 2, y)`, `p.data.add_(-lr, grad)`, `addcdiv_(-step, m, d)`), with a warning:
    (scale, *tensors) when the first is a number and tensors follow it, else None."""
    if not operands or not _scale_like(scale) or not all(isinstance(t, Tensor) for t in operands):
        return None
    warnings.warn(f"This overload of {name} is deprecated: {name}(Number, Tensor...) puts the "
                  f"scale first; pass it as a keyword ({name}(..., alpha= or value=))",
                  UserWarning, stacklevel=_user_level())
    return scale, operands


def _scale_like(scale) -> bool:
    """What PyTorch's parser takes as the Number of these overloads: a number (not a bool) or a
    0-dim tensor that does not require grad (LAMB's `p.data.add_(-lr * min(r1 / r2, 10), step)`
    computes its scale as a tensor). The tensor stays a tensor: a compiled step multiplies by
    it rather than reading it back to Python."""
    if isinstance(scale, Tensor):
        return scale.dim() == 0 and not scale.requires_grad
    return isinstance(scale, numbers.Number) and not isinstance(scale, bool)


def unit(alpha) -> bool:
    """alpha is the number 1 (a scale given as a tensor is always applied)."""
    return not isinstance(alpha, Tensor) and alpha == 1


def _user_level() -> int:
    """warnings' stacklevel of the user's line that called into stepjit."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _scaled(name, other, rest, alpha):
    """(other, alpha) of add/sub, from either signature."""
    if not rest:
        return other, alpha
    old = deprecated_scale(name, other, rest) if len(rest) == 1 and unit(alpha) else None
    if old is None:
        raise TypeError(f"{name}() expects (other, *, alpha=1) or the deprecated (Number alpha, "
                        f"Tensor other), got {1 + len(rest)} positional arguments: "
                        f"({', '.join(type(a).__name__ for a in (other, *rest))})")
    return old[1][0], old[0]


def add(input, other, *rest, alpha=1):
    other, alpha = _scaled("add", other, rest, alpha)
    try:
        return apply(P.add, input, other if unit(alpha) else apply(P.mul, other, alpha))
    except TypeError:
        return _sparse_add(input, other, alpha)     # (a try costs dense calls nothing)


def _sparse_add(input, other, alpha):
    """input + alpha * other where an operand is a sparse COO tensor (stepjit/ops/sparse.py);
    re-raise the dispatch's TypeError otherwise."""
    for x in (input, other):
        if getattr(x, "is_sparse", False) is True:
            return x.sparse_add(input, other, alpha=alpha)
    raise


def sub(input, other, *rest, alpha=1):
    other, alpha = _scaled("sub", other, rest, alpha)
    try:
        return apply(P.sub, input, other if unit(alpha) else apply(P.mul, other, alpha))
    except TypeError:
        return _sparse_add(input, other, -alpha)


mul = _binary(P.mul)
pow = _binary(P.pow)
maximum = _binary(P.maximum)
minimum = _binary(P.minimum)
eq, ne, lt, le, gt, ge = (_binary(p) for p in (P.eq, P.ne, P.lt, P.le, P.gt, P.ge))

neg, exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, relu, abs, sign, floor, ceil, round = (
    _unary(p) for p in (P.neg, P.exp, P.log, P.log1p, P.sqrt, P.sin, P.cos, P.tanh, P.sigmoid,
                        P.relu, P.abs, P.sign, P.floor, P.ceil, P.round))
negative = neg
log2, log10, expm1, erf = (_unary(p) for p in (P.log2, P.log10, P.expm1, P.erf))
erfinv = _unary(P.erfinv)


def erfc(input):
    return apply(P.sub, 1, erf(input))


lgamma, digamma = _unary(P.lgamma), _unary(P.digamma)


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n!r})")
    return digamma(input) if n == 0 else apply(P.polygamma, input, n=n)


def mvlgamma(input, p):
    """log of the multivariate gamma function of dimension p:
    p(p-1)/4 log(pi) + sum_{j<p} lgamma(x - j/2), for x > (p - 1)/2."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    data = input._data
    if isinstance(data, np.ndarray) and data.size and not (data > (p - 1) / 2).all():
        raise RuntimeError(f"All elements must be greater than (p-1)/2 (got p={p})")
    total = lgamma(input)
    for j in range(1, p):
        total = total + lgamma(input - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def div(input, other, *, rounding_mode=None):
    if rounding_mode == "floor":
        return apply(P.floor_divide, input, other)
    if rounding_mode == "trunc":
        return _trunc_divide(input, other)
    if rounding_mode is not None:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    return apply(P.div, input, other)


def _trunc_divide(input, other):
    """Division rounded toward zero. Integers: floor division, one up where it rounded a
    negative inexact quotient down (no float round trip); floats: trunc(a / b), as PyTorch."""
    if arith_rule(aval_of(input), aval_of(other)).dtype.category == FLOAT:
        out = apply(P.div, input, other)
        return where(apply(P.lt, out, 0), ceil(out), floor(out))
    q = apply(P.floor_divide, input, other)
    inexact = apply(P.ne, apply(P.sub, input, apply(P.mul, q, other)), 0)
    opposite = apply(P.ne, apply(P.lt, input, 0), apply(P.lt, other, 0))
    return where(apply(P.logical_and, inexact, opposite), apply(P.add, q, 1), q)


true_divide = divide = div


def floor_divide(input, other):
    return apply(P.floor_divide, input, other)


def remainder(input, other):
    """input - floor(input / other) * other: the sign of the divisor, as Python's %."""
    return sub(input, mul(floor_divide(input, other), other))


def fmod(input, other):
    """The C remainder: the sign of the dividend (integers exactly: no float round trip)."""
    return sub(input, mul(div(input, other, rounding_mode="trunc"), other))


def rsqrt(input):
    return apply(P.div, 1, sqrt(input))


def reciprocal(input):
    return apply(P.div, 1, input)


def square(input):
    return apply(P.mul, input, input)


def exp2(input):
    return apply(P.pow, 2.0, input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input if min is None else maximum(input, min)
        return out if max is None else minimum(out, max)
    return apply(P.clamp, input, lo=min, hi=max)


clip = clamp


def where(condition, input=None, other=None):
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if isinstance(condition, Tensor) and condition.dtype is uint8:
        # PyTorch still takes a uint8 condition (PyTorch 0.4-era `mask.byte()`), warning
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                      "will be removed in a future version of PyTorch. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=3)
        condition = condition.bool()
    return apply(P.where, condition, input, other)


def masked_fill(input, mask, value):
    # checked here, not left to where's rule, so the message names the op the user called
    # (PyTorch 0.4-era code passes `mask.byte()`, which PyTorch 2 refuses too)
    if isinstance(mask, Tensor) and mask.dtype.name != "bool":
        raise DTypeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                         f"{mask.dtype.name} (input {input.dtype.name} {list(input.shape)}, "
                         f"mask {list(mask.shape)}, at {user_location()})")
    return apply(P.where, mask, value, input)


def lerp(input, end, weight):
    return add(input, mul(weight, sub(end, input)))


def _addc_args(name, tensor1, tensor2, rest, value):
    if not rest:
        return tensor1, tensor2, value
    old = deprecated_scale(name, tensor1, (tensor2, *rest)) if len(rest) == 1 else None
    if old is None:
        raise TypeError(f"{name}() expects (tensor1, tensor2, *, value=1) or the deprecated "
                        f"(Number value, Tensor tensor1, Tensor tensor2)")
    return old[1][0], old[1][1], old[0]


def addcmul(input, tensor1, tensor2, *rest, value=1):
    tensor1, tensor2, value = _addc_args("addcmul", tensor1, tensor2, rest, value)
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *rest, value=1):
    tensor1, tensor2, value = _addc_args("addcdiv", tensor1, tensor2, rest, value)
    return add(input, mul(div(tensor1, tensor2), value))


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


# -- NaN and infinity ----------------------------------------------------------------------
def isnan(input):
    return apply(P.ne, input, input)


def isinf(input):
    return apply(P.eq, abs(input), float("inf"))


def isposinf(input):
    return apply(P.eq, input, float("inf"))


def isneginf(input):
    return apply(P.eq, input, float("-inf"))


def isfinite(input):
    return apply(P.logical_and, apply(P.eq, input, input), apply(P.ne, abs(input), float("inf")))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +-inf -> posinf/neginf (default: the dtype's largest finite values); the
    gradient flows where the input was kept, as PyTorch's does."""
    import numpy as np
    if input.dtype.category != 2:
        return apply(P.copy, input)
    big = float(np.finfo(input.dtype.np).max)
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    out = apply(P.where, isnan(input), nan, input)
    out = apply(P.where, isposinf(input), posinf, out)
    return apply(P.where, isneginf(input), neginf, out)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b|, or a == b (equal infinities); NaNs equal when asked."""
    if isinstance(other, Tensor) and input.dtype is not other.dtype:
        raise TypeError(f"isclose: {input.dtype.name} did not match {other.dtype.name}")
    close = apply(P.le, abs(sub(input, other)), add(mul(abs(other), rtol), atol))
    close = apply(P.logical_or, close, apply(P.eq, input, other))
    if equal_nan:
        close = apply(P.logical_or, close, apply(P.logical_and, isnan(input), isnan(other)))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(apply(P.eq, input, other).all())
