"""Running a primitive's NumPy impl: the meaning of an op.

Eager dispatch (dispatch.apply), the IR interpreter and the backends' host steps all call
`run_impl`, so an interpreted graph reproduces eager values bit for bit: the inputs a
primitive casts (`casts`) are converted to the output dtype first (a Python number becomes a
0-d array, `number_array`), and an error the impl raises becomes the clean error naming the
op, the input shapes and, inside a compiled step, the user's line.
"""
from __future__ import annotations

import numpy as np

from ..errors import IndexingError, StepjitError, numpy_index_message, op_error
from .types import BOOL, AVal


def run_impl(prim, arrays, attrs, out_aval, loc=None):
    """Evaluate a primitive on NumPy values: the meaning of the op, shared with the IR interpreter.
    `loc`: the IR node's user line, named by an error the impl raises (data-dependent: an index
    out of range inside a compiled step)."""
    target = out_aval.dtype.np
    if prim.casts and out_aval.dtype.category != BOOL:
        casts = tuple(i for i in prim.casts
                      if not isinstance(arrays[i], np.ndarray) or arrays[i].dtype != target)
        if casts:
            arrays = list(arrays)
            _convert(arrays, casts, target)
    return _call_impl(prim, arrays, attrs, target, loc)


def _convert(arrays, casts, target):
    """Convert arrays[i] for i in casts to the output dtype, in place in the list."""
    for i in casts:
        a = arrays[i]
        arrays[i] = a.astype(target) if isinstance(a, np.ndarray) else number_array(a, target)


def number_array(value, target):
    """A Python number as a 0-d array of NumPy dtype `target`. Not a NumPy scalar: a ufunc (or
    putmask) takes an array operand by a shorter path than a scalar, which goes through NumPy's
    scalar discovery, and runs the same loop on the same value (the conversion rounds, warns and
    raises as the scalar type's constructor does)."""
    try:
        return np.array(value, target)
    except OverflowError:
        # PyTorch converts a Python int out of a narrow integer dtype's range by wrapping it
        # (uint8 tensor + 300 adds 44); past int64 it refuses, as NumPy does.
        if target.kind not in "iu" or not -2 ** 63 <= value < 2 ** 63:
            raise
        return np.array(value, np.int64).astype(target)


def _call_impl(prim, arrays, attrs, target, loc=None):
    try:
        result = prim.impl(*arrays, **attrs)
    except (StepjitError, ValueError, IndexError, TypeError) as e:
        raise _impl_error(prim, arrays, e, loc) from None
    if type(result) is not np.ndarray or (result.dtype is not target and result.dtype != target):
        result = np.asarray(result, dtype=target)
    return result


def _impl_error(prim, arrays, e, loc=None):
    """The clean error, naming the op, for what an impl (or NumPy under it) rejected."""
    if isinstance(e, StepjitError):   # (an impl may name the public op it checks for)
        return op_error(e, getattr(e, "op", None) or prim.name, loc)
    if isinstance(e, IndexError):     # NumPy's bad index: PyTorch's IndexError, in its words
        return op_error(IndexingError(f"{numpy_index_message(e)} (input shapes "
                                      + ", ".join(str(list(np.shape(a))) for a in arrays) + ")"),
                        prim.name, loc)
    return op_error(StepjitError(f"{e} (input shapes "
                                 + ", ".join(str(list(np.shape(a))) for a in arrays) + ")"),
                    prim.name, loc)


def raise_check(node, flag=None):
    """A check came out set in a compiled program: raise the error the node's impl raises
    eagerly, naming the user's line. A `check` primitive's flag: run its impl on a value it
    rejects (NaN). An index check (a native form that fills {status}, registry `native`):
    flag = (1, the index input at fault, its value); run the impl on inputs of the node's
    shapes whose only nonzero index is that value, so NumPy words the error as it did eagerly."""
    if node.prim.check:
        run_impl(node.prim, [np.full((1,), np.nan, node.out.dtype.np)], node.attrs,
                 AVal((), node.out.dtype), node.loc)
    else:
        run_impl(node.prim, _with_bad_index(node, int(flag[1]), int(flag[2])), node.attrs,
                 AVal(node.out.shape, node.out.dtype), node.loc)
    raise AssertionError(f"stepjit: the check {node.prim.name} did not raise")   # (unreachable)


def _with_bad_index(node, which, value):
    """Arrays for node's inputs, all zeros (data inputs as zero-stride views), where index
    tensor `which` (the key's index tensors are the last inputs) holds `value` first."""
    n = sum(1 for k in node.attrs["key"] if k in ("T", "G"))
    first = len(node.inputs) - n
    arrays = []
    for i, v in enumerate(node.inputs):
        if i >= first:
            a = np.zeros(v.shape, v.dtype.np)
            if i - first == which and a.size:
                a.flat[0] = value
        else:
            a = np.lib.stride_tricks.as_strided(np.zeros(1, v.dtype.np), shape=v.shape,
                                                strides=(0,) * len(v.shape))
        arrays.append(a)
    return arrays
