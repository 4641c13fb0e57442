"""`stepjit.amp`: PyTorch's mixed-precision API (`autocast`, `GradScaler`), in full precision.

stepjit's kernels compute in float32 and float64 only, so an autocast region runs every op in
its tensors' own dtypes. That keeps programs written for mixed precision (nanoGPT picks
`torch.amp.autocast(device_type, dtype=ptdtype)` or a `nullcontext`, and a
`GradScaler(enabled=(dtype == 'float16'))`) running and exactly as precise as their float32
run; it is said once, by a warning, where a region asks for a reduced precision.

`GradScaler` is PyTorch's dynamic loss scaling, computed for real where it is enabled:
`scale` multiplies the loss by the scale, `unscale_` divides the gradients and notes whether
any is inf or NaN, `step` skips the update on such a step, and `update` backs the scale off
then (or grows it after `growth_interval` clean steps). As in PyTorch, a scaler asked for
on 'cuda' where no CUDA device exists warns and disables itself: every method then passes
through, so `scaler.scale(loss).backward(); scaler.step(opt); scaler.update()` is plain
`loss.backward(); opt.step()`.
"""
from __future__ import annotations

import functools
import types
import math
import warnings

from . import cuda as _cuda
from .autograd.grad_mode import no_grad
from .ir.types import bfloat16, float16
from .ops.extras import is_warn_always_enabled

_STATE = {"warned": False}
# per device type, as PyTorch keeps them: whether an autocast region is open, and its dtype
_ENABLED = {"cpu": False, "cuda": False}
_DTYPE = {"cpu": bfloat16, "cuda": float16}   # PyTorch's defaults


def _device_type(device):
    return str(device).split(":")[0]


class autocast:
    """`with autocast(device_type, dtype=..., enabled=...)`, or as a decorator. See above."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        self.device_type = _device_type(device_type)
        if self.device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"autocast: device_type must be 'cpu' or 'cuda', got "
                               f"{device_type!r}")
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if self._enabled and self.device_type == "cuda" and not _cuda.is_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", stacklevel=2)
            self._enabled = False
        self._saved = None

    def __enter__(self):
        if self._enabled and self.fast_dtype is not None and (
                not _STATE["warned"] or is_warn_always_enabled()):
            name = getattr(self.fast_dtype, "name", self.fast_dtype)
            if name in ("float16", "bfloat16"):
                _STATE["warned"] = True
                warnings.warn(f"autocast to {name}: stepjit has no {name} kernels, so this "
                              "region computes in its tensors' own dtypes (float32 results, "
                              "more precise than PyTorch's)", stacklevel=2)
        dev = self.device_type
        self._saved = (_ENABLED[dev], _DTYPE[dev])
        _ENABLED[dev] = self._enabled
        if self.fast_dtype is not None:
            _DTYPE[dev] = self.fast_dtype
        return self

    def __exit__(self, *exc):
        _ENABLED[self.device_type], _DTYPE[self.device_type] = self._saved
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped


def is_autocast_enabled(device_type=None) -> bool:
    """Whether an autocast region for device_type is open (no argument: 'cuda', PyTorch's
    older meaning)."""
    return _ENABLED[_device_type(device_type or "cuda")]


def get_autocast_dtype(device_type):
    """The dtype autocast regions for device_type ask for (stepjit computes in the tensors'
    own dtypes whatever it is; see above)."""
    return _DTYPE[_device_type(device_type)]


def is_autocast_available(device_type) -> bool:
    return _device_type(device_type) in ("cpu", "cuda")


# PyTorch's function forms of what an autocast region sets, for code that opens regions by
# hand (set_autocast_enabled ... set_autocast_enabled(prev)). The per-device forms are
# deprecated in PyTorch, which warns as here.
def _deprecated(old, new):
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def set_autocast_enabled(*args):
    """set_autocast_enabled(device_type, enabled), or PyTorch's older (enabled) for 'cuda'."""
    device_type, enabled = args if len(args) == 2 else ("cuda",) + tuple(args)
    _ENABLED[_device_type(device_type)] = bool(enabled)


def set_autocast_dtype(device_type, dtype):
    _DTYPE[_device_type(device_type)] = dtype


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return _DTYPE["cpu"]


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return _DTYPE["cuda"]


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    _DTYPE["cpu"] = dtype


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    _DTYPE["cuda"] = dtype


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return _ENABLED["cpu"]


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled", "set_autocast_enabled('cpu', enabled)")
    _ENABLED["cpu"] = bool(enabled)


def is_autocast_cache_enabled():
    """Whether autocast keeps its casts of weights within a region; stepjit makes no casts,
    so the switch is kept and read back only."""
    return _STATE.get("cache", True)


def set_autocast_cache_enabled(enabled):
    _STATE["cache"] = bool(enabled)


def clear_autocast_cache():
    """Nothing to clear: stepjit's autocast regions cast nothing (see above)."""


class GradScaler:
    """Dynamic loss scaling (PyTorch's `torch.amp.GradScaler`). See the module docstring."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = _device_type(device)
        if enabled and self._device == "cuda" and not _cuda.is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            enabled = False
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}      # id(optimizer) -> {"unscaled": bool, "found_inf": bool}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_factor(self, v):
        self._growth_factor = float(v)

    def set_backoff_factor(self, v):
        self._backoff_factor = float(v)

    def set_growth_interval(self, v):
        self._growth_interval = int(v)

    def scale(self, outputs):
        """outputs times the scale: a tensor, or lists/tuples/dicts of them."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if isinstance(outputs, dict):
            return {k: self.scale(v) for k, v in outputs.items()}
        return outputs * self._scale

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer),
                                              {"unscaled": False, "found_inf": False})

    def unscale_(self, optimizer):
        """Divide optimizer's gradients by the scale (once per step) and note any inf/NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        inv = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.grad.mul_(inv)
                    if not bool(p.grad.isfinite().all()):
                        found = True
        state.update(unscaled=True, found_inf=found)

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(), skipped when the (unscaled) gradients hold an inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if not state["unscaled"]:
            self.unscale_(optimizer)
        if state["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Back the scale off after a step with inf/NaN gradients, grow it after
        `growth_interval` clean ones (or set it to `new_scale`)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        elif not self._per_optimizer:
            raise AssertionError("No inf checks were recorded prior to update.")
        elif any(s["found_inf"] for s in self._per_optimizer.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                grown = self._scale * self._growth_factor
                self._scale = grown if math.isfinite(grown) else self._scale
                self._growth_tracker = 0
        self._per_optimizer = {}

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


class _CudaGradScaler(GradScaler):
    """`torch.cuda.amp.GradScaler(...)`: GradScaler('cuda', ...)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


def _cuda_autocast(enabled=True, dtype=None, cache_enabled=True):
    """`torch.cuda.amp.autocast(...)`: autocast('cuda', ...)."""
    return autocast("cuda", dtype, enabled, cache_enabled)


def _cpu_autocast(enabled=True, dtype=None, cache_enabled=True):
    """`torch.cpu.amp.autocast(...)`: autocast('cpu', ...)."""
    return autocast("cpu", dtype, enabled, cache_enabled)


# The deprecated per-device namespaces (`torch.cuda.amp`, `torch.cpu.amp`) programs still use;
# stepjit/__init__.py binds them where PyTorch has them.
cuda_amp = types.ModuleType("stepjit.cuda.amp", "torch.cuda.amp's GradScaler and autocast")
cuda_amp.GradScaler, cuda_amp.autocast = _CudaGradScaler, _cuda_autocast
cpu_amp = types.ModuleType("stepjit.cpu.amp", "torch.cpu.amp's autocast")
cpu_amp.autocast = _cpu_autocast
