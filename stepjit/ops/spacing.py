"""linspace's values as PyTorch computes them, bit for bit.

PyTorch's CPU kernel takes step = (end - start) / (steps - 1) in the result's float type and
fills the first half from the start, `start + step * i`, and the second half from the end,
`end - step * (steps - 1 - i)`, each a fused multiply-add (one rounding). np.linspace rounds
differently, which is invisible until a value sits on a knife edge: the spatial-transformer
tutorial's identity affine grid lands on pixel centres only if its base grid is PyTorch's to
the last bit, and grid_sample's gradient there depends on which side floor() picks.

float32: the multiply-add of float32 operands in float64 then one rounding to float32 (the
product is exact in float64). float64: an emulated FMA (Dekker's exact product and Knuth's
two-sum), checked against PyTorch on thousands of (start, end, steps). Integer results: the
ends truncated to integers, the steps in float64, the values truncated, as PyTorch's.
"""
from __future__ import annotations

import numpy as np

_SPLIT = 134217729.0          # 2**27 + 1: Veltkamp's splitter for float64


def _split(a):
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def _fma(a, b, c):
    """a * b + c with (nearly always exactly) one rounding, elementwise in float64."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    p_err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = c + p
    back = s - c
    s_err = (c - (s - back)) + (p - back)
    return s + (s_err + p_err)


def linspace_values(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    if steps <= 1:
        return np.full(steps, start, dtype=np.float64).astype(dtype)
    idx = np.arange(steps, dtype=np.float64)
    from_end = (steps - 1) - idx
    first = np.arange(steps) < steps // 2
    if dtype == np.float32:
        s, e = float(np.float32(start)), float(np.float32(end))
        step = float((np.float32(end) - np.float32(start)) / np.float32(steps - 1))
        values = np.where(first, s + step * idx, e - step * from_end)
    else:
        if dtype.kind in "iu":     # (the ends are converted to the integer type first)
            start, end = int(start), int(end)
        s, e = float(start), float(end)
        step = np.full(steps, (e - s) / (steps - 1))
        values = np.where(first, _fma(step, idx, np.full(steps, s)),
                          _fma(-step, from_end, np.full(steps, e)))
    if dtype.kind in "iu":
        values = np.trunc(values)
    return values.astype(dtype)
