"""bfloat16 storage: NumPy has no bfloat16, so a bfloat16 array holds each value's 16 bits as
an opaque 2-byte element (`bfloat16.np`, NumPy's 'V2'), the bits PyTorch stores: the high half
of the float32 with the same sign and exponent, rounded to nearest even.

stepjit stores bfloat16 tensors but computes only in float32 and float64: converting to and
from bfloat16 (the `cast` primitive) and moving values (views, copies, concatenation) are all
an array of bfloat16 takes part in (dispatch refuses the rest, naming the op). Factories given
dtype=bfloat16 (`zeros`, `ones`, `empty`, `full`, `tensor`, `*_like`) fill in float32 and round,
as PyTorch's conversion does, and `Module.to(bfloat16)` / `.bfloat16()` store the floating
parameters and buffers so (`ir/types.py` storage_dtype admits bfloat16 where a tensor is stored).
"""
from __future__ import annotations

import numpy as np

from .types import bfloat16

_NAN_BITS = 0xFFFF   # the NaN PyTorch's CPU conversion writes (all bits set)


def to_bfloat16(x: np.ndarray) -> np.ndarray:
    """x rounded to bfloat16, to nearest even (a float64 is rounded to float32 first)."""
    x32 = np.asarray(x, dtype=np.float32)
    bits = x32.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = np.where(np.isnan(x32), _NAN_BITS, rounded).astype(np.uint16)
    return out.view(bfloat16.np)


def from_bfloat16(x: np.ndarray) -> np.ndarray:
    """The float32 values of bfloat16 array x (exact: every bfloat16 is a float32)."""
    return (np.ascontiguousarray(x).view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def cast(x: np.ndarray, np_dtype) -> np.ndarray:
    """x.astype(np_dtype), with bfloat16 on either side."""
    if x.dtype == bfloat16.np:
        x = from_bfloat16(x)
    if np_dtype == bfloat16.np:
        return to_bfloat16(x)
    return x.astype(np_dtype)
