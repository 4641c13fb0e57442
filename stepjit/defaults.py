"""Process-wide settings PyTorch programs change at the top: the default dtype and device,
and knobs stepjit accepts because its answer never depends on them.

`set_default_dtype` sets what Python floats, float factories (`zeros`, `randn`, layers'
weights) and int-to-float promotion produce. `set_default_device` sets where factories put
tensors when no `device=` is given (CUDA only where `stepjit.cuda.is_available()`). A
compiled step bakes both in where it traced: set them before the first call.
"""
from __future__ import annotations

from .ir.types import DEFAULTS, FLOAT, as_dtype
from .tensor import CPU, DEFAULT_DEVICE, device

_STATE = {"deterministic": False, "matmul_precision": "highest"}


def set_default_dtype(d):
    dtype = as_dtype(d)
    if dtype.category != FLOAT:
        raise TypeError("only floating-point types are supported as the default type")
    DEFAULTS.float = dtype


def get_default_dtype():
    return DEFAULTS.float


def set_default_device(d):
    """Factories without `device=` make tensors on `d` (None: back to the CPU)."""
    DEFAULT_DEVICE.device = None if d is None else (d if isinstance(d, device) else device(d))


def get_default_device():
    return DEFAULT_DEVICE.device or CPU


def default_device():
    """The device factories use when given none: None for the CPU (the common, free case)."""
    dev = DEFAULT_DEVICE.device
    return None if dev is None or dev.type == "cpu" else dev


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted: every stepjit kernel is deterministic (no atomics, fixed reduction order)."""
    _STATE["deterministic"] = bool(mode)


def are_deterministic_algorithms_enabled():
    return _STATE["deterministic"]


def set_float32_matmul_precision(precision):
    """Accepted and remembered; float32 matmuls always run in full float32 ("highest")."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _STATE["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _STATE["matmul_precision"]
