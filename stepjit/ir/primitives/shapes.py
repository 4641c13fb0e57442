"""Shape and dtype rules shared by families of primitives.

Rules raise ShapeError / DTypeError with a message that names the shapes; the
dispatcher adds the op name and the user's source line.
"""
from __future__ import annotations

from ...errors import DTypeError, IndexingError, ShapeError, UnsupportedDTypeError
from ..types import BOOL, FLOAT, INT, AVal, bool_, default_float, int64, result_type


def fmt(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def broadcast_shapes(*shapes) -> tuple:
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, d in enumerate(s, ndim - len(s)):
            if d == out[i] or d == 1:
                continue
            if out[i] == 1:
                out[i] = d
            else:
                raise ShapeError("shapes " + " and ".join(fmt(x) for x in shapes)
                                 + " cannot be broadcast together")
    return tuple(out)


def norm_axis(axis, ndim: int):
    """None -> None (all axes); int or sequence -> sorted tuple of non-negative ints."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            # (IndexError, as PyTorch's "Dimension out of range")
            raise IndexingError(f"dim {a} is out of range for a tensor of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"dim {axis} names a dimension twice")
    return tuple(sorted(out))


def reduced_shape(shape, axis, keepdims) -> tuple:
    if not shape:
        return ()
    if axis is None:
        axis = range(len(shape))
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


def _elementwise(dtype_of):
    def rule(*avals, **attrs):
        shape = avals[0].shape if len(avals) == 1 else broadcast_shapes(*(a.shape for a in avals))
        return AVal(shape, dtype_of(avals))
    return rule


def _float_result(avals):
    d = result_type(*avals)
    return d if d.category == FLOAT else default_float()


def _no_bool(avals):
    d = result_type(*avals)
    if d.category == BOOL:
        raise DTypeError("this op is not defined for bool tensors; convert with .float() first")
    return d


def _logical(avals):
    for a in avals:
        if a.dtype.category != BOOL:
            raise DTypeError(f"expects bool tensors, got {a.dtype.name}")
    return bool_


def _integral(avals):
    d = result_type(*avals)
    if d.category == FLOAT:
        raise UnsupportedDTypeError(f"expects integer or bool tensors, got {d.name}")
    return d


def _shifted(avals):
    d = _integral(avals)
    if d.category == BOOL:
        raise UnsupportedDTypeError("expects integer tensors, got bool")
    return d


same_rule = _elementwise(lambda avals: result_type(*avals))
arith_rule = _elementwise(_no_bool)
float_rule = _elementwise(_float_result)
compare_rule = _elementwise(lambda avals: bool_)
logical_rule = _elementwise(_logical)
integral_rule = _elementwise(_integral)
shift_rule = _elementwise(_shifted)


def where_rule(cond, x, y):
    if cond.dtype.category != BOOL:
        raise DTypeError(f"condition must be a bool tensor, got {cond.dtype.name}")
    return AVal(broadcast_shapes(cond.shape, x.shape, y.shape), result_type(x, y))


def cast_rule(x, dtype):
    return AVal(x.shape, dtype)


def reduce_rule(x, axis, keepdims):
    return AVal(reduced_shape(x.shape, axis, keepdims), x.dtype)


def sum_rule(x, axis, keepdims):
    # PyTorch sums bool and integer tensors to int64.
    d = x.dtype if x.dtype.category == FLOAT else int64
    return AVal(reduced_shape(x.shape, axis, keepdims), d)


def arg_reduce_rule(x, axis, keepdims):
    if axis is not None and len(axis) != 1:
        raise ShapeError("argmax/argmin take a single dim")
    return AVal(reduced_shape(x.shape, axis, keepdims), int64)


def matmul_rule(x, y):
    if x.ndim < 2 or y.ndim < 2:
        raise ShapeError(f"matmul needs operands of at least 2 dimensions, got {fmt(x.shape)} and {fmt(y.shape)}")
    if x.shape[-1] != y.shape[-2]:
        raise ShapeError(f"shapes {fmt(x.shape)} and {fmt(y.shape)} cannot be multiplied "
                         f"({x.shape[-2]}x{x.shape[-1]} and {y.shape[-2]}x{y.shape[-1]})")
    if x.dtype is not y.dtype:
        raise DTypeError(f"expected both operands to have the same dtype, got {x.dtype.name} and {y.dtype.name}")
    if x.dtype.category == BOOL:
        raise DTypeError("matmul is not defined for bool tensors")
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2])
    return AVal(batch + (x.shape[-2], y.shape[-1]), x.dtype)


def is_integral(aval) -> bool:
    return aval.dtype.category in (BOOL, INT)
