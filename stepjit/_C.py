"""`torch._C` as programs reach it: PyTorch's C extension, of which user code imports a few
public classes (`from torch._C import device`, often inserted by an editor's auto-import) and
the odd query (`torch._C._get_tracing_state()`). Those classes are the very objects the
top-level API exports, so the names here are read from the package on use (no import cycle,
no second definition). Every other name of PyTorch's extension is its internals: reading one
raises an AttributeError that says so."""
import sys as _sys

# the objects torch._C shares with torch (`torch._C.device is torch.device` in PyTorch)
_SHARED = frozenset({
    "device", "dtype", "Size", "Generator", "layout", "memory_format", "finfo", "iinfo",
    "default_generator", "is_grad_enabled", "is_inference_mode_enabled", "get_default_dtype",
    "get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
    "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "is_autocast_enabled",
    "get_autocast_dtype", "set_flush_denormal",
})
# torch._C's base class of torch.Tensor: isinstance(t, TensorBase) holds for every tensor
_ALIASES = {"TensorBase": "Tensor", "_TensorBase": "Tensor"}


def _get_tracing_state():
    """None: no TorchScript trace is ever being recorded (stepjit's tracer is not TorchScript)."""
    return None


def __getattr__(name):
    target = _ALIASES.get(name, name if name in _SHARED else None)
    if target is None:
        raise AttributeError(
            f"module 'stepjit._C' has no attribute {name!r}: torch._C.{name} is part of "
            f"PyTorch's C extension, which stepjit does not have; stepjit._C holds only "
            f"{', '.join(sorted(_SHARED | set(_ALIASES)))} and _get_tracing_state")
    return getattr(_sys.modules[__package__], target)


def __dir__():
    return sorted(_SHARED | set(_ALIASES) | {"_get_tracing_state"})
