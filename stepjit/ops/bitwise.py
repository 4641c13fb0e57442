"""Bitwise and logical functions: `&`, `|`, `^`, `~`, `<<`, `>>` and their named forms.

On integer tensors they are the bitwise primitives; on bool tensors `&`, `|`, `^` and `~`
are the logical ones (the same truth table, and `~` of a bool is `not`, never -2). Floats
are refused, naming the op, as PyTorch refuses them. The logical_* functions take any
dtype, as PyTorch's do: nonzero is True.
"""
from __future__ import annotations

from ..dispatch import apply
from ..ir import primitives as P
from ..ir.types import bool_
from ..tensor import Tensor


def _is_bool(x):
    return x.dtype is bool_ if isinstance(x, Tensor) else isinstance(x, bool)


def _bitwise(prim, logical):
    def fn(input, other):
        if _is_bool(input) and _is_bool(other):
            return logical(input, other)
        return apply(prim, input, other)
    fn.__name__ = prim.name
    return fn


def as_bool(x):
    """x as a bool tensor (nonzero is True); a Python number as a Python bool."""
    if not isinstance(x, Tensor):
        return bool(x)
    return x if x.dtype is bool_ else apply(P.cast, x, dtype=bool_)


def logical_and(input, other):
    return apply(P.logical_and, as_bool(input), as_bool(other))


def logical_or(input, other):
    return apply(P.logical_or, as_bool(input), as_bool(other))


def logical_xor(input, other):
    return apply(P.ne, as_bool(input), as_bool(other))


def logical_not(input):
    return apply(P.logical_not, as_bool(input))


bitwise_and = _bitwise(P.bitwise_and, logical_and)
bitwise_or = _bitwise(P.bitwise_or, logical_or)
bitwise_xor = _bitwise(P.bitwise_xor, logical_xor)


def bitwise_not(input):
    if input.dtype is bool_:
        return logical_not(input)
    return apply(P.bitwise_not, input)


def bitwise_left_shift(input, other):
    return apply(P.left_shift, input, other)


def bitwise_right_shift(input, other):
    return apply(P.right_shift, input, other)
