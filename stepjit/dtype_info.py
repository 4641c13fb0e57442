"""`finfo` / `iinfo`: the numeric limits of a dtype, as PyTorch reports them.

Values are NumPy's for the same storage type, as Python numbers (PyTorch's are too), so
`torch.finfo(torch.float32).eps` is `np.finfo(np.float32).eps` exactly.
"""
from __future__ import annotations

import numpy as np

from .ir.types import FLOAT, INT, REDUCED_FLOATS, as_dtype, bfloat16, default_float

# bfloat16 has no NumPy type: its limits (8 exponent bits, 7 mantissa bits), as PyTorch gives them.
_BFLOAT16 = dict(bits=16, eps=2.0 ** -7, max=3.3895313892515355e38, min=-3.3895313892515355e38,
                 tiny=2.0 ** -126, resolution=0.01)


class finfo:
    __module__ = "stepjit"
    """Limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal), resolution."""

    def __init__(self, type=None):
        # The reduced floats are named, not computed in (ir/types.py); their limits are known.
        dtype = type if type in REDUCED_FLOATS else (
            default_float() if type is None else as_dtype(type))
        if dtype.category != FLOAT:
            raise TypeError(f"finfo() requires a floating point input type, got {dtype}")
        self.dtype = dtype.name
        if dtype is bfloat16:
            self.__dict__.update(_BFLOAT16, smallest_normal=_BFLOAT16["tiny"])
            return
        info = np.finfo(dtype.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)   # (PyTorch: exactly 1e-06, not f32(1e-06))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    __module__ = "stepjit"
    """Limits of an integer dtype: bits, max, min."""

    def __init__(self, type):
        dtype = as_dtype(type)
        if dtype.category != INT:
            raise TypeError(f"{dtype} is not supported by iinfo (it needs an integer dtype)")
        self.dtype = dtype.name
        info = np.iinfo(dtype.np)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
