"""result_type, promote_types, can_cast, is_nonzero: PyTorch's promotion and casting rules
asked directly (the same rules every op applies: stepjit/ir/types.py)."""
from __future__ import annotations

from ..dispatch import aval_of
from ..ir.types import _promote_pair, as_dtype, result_type as _result_type


def result_type(tensor1, tensor2):
    return _result_type(aval_of(tensor1), aval_of(tensor2))


def promote_types(type1, type2):
    return _promote_pair(as_dtype(type1), as_dtype(type2))


def can_cast(from_, to):
    """False only from a higher category to a lower one (float -> int or bool, int -> bool)."""
    return as_dtype(from_).category <= as_dtype(to).category


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           if input.numel() else "Boolean value of Tensor with no values is "
                           "ambiguous")
    return bool(input.reshape(()) != 0)
