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
    _STATE["warn_only"] = bool(mode) and bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _STATE.get("warn_only", False)


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """PyTorch's spelling of use_deterministic_algorithms: 0/'default' off, 1/'warn' on with
    warnings only, 2/'error' on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def set_float32_matmul_precision(precision):
    """Accepted and remembered; float32 matmuls always run in full float32 ("highest")."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _STATE["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _STATE["matmul_precision"]
