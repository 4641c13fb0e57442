"""`stepjit.cuda`: device queries, and the few helpers every CUDA path shares.

A tensor on the CUDA device keeps its storage in a `numba.cuda` device array
(a `DeviceNDArray` on a GPU; under Numba's simulator, `NUMBA_ENABLE_CUDASIM=1`,
whatever the simulator gives: a `FakeCUDAArray` around a host array). Numba is
imported only when CUDA is first asked about, so CPU-only programs never pay for it.

Everything here that touches a device array goes through these helpers
(`is_device_array`, `to_device`, `to_host`, `empty`), so the rest of stepjit
names no Numba class.
"""
from __future__ import annotations

import sys
import threading
import time

import numpy as np

from . import config

_STATE = {"cuda": None, "available": None}


def _numba_cuda():
    """The numba.cuda module, or None where it cannot be imported."""
    if _STATE["cuda"] is None:
        try:
            from numba import cuda
        except Exception:  # noqa: BLE001 - no numba, or a broken CUDA toolkit
            cuda = False
        if cuda and _simulating():
            lock_simulator_shared_arrays()
        _STATE["cuda"] = cuda
    return _STATE["cuda"] or None


def _simulating() -> bool:
    from numba import config
    return bool(getattr(config, "ENABLE_CUDASIM", False))


def lock_simulator_shared_arrays():
    """Numba's CUDA simulator (0.68) hands a block's threads their shared array by looking it up
    in a dict keyed by the calling line and creating it when missing, with no lock: two threads
    that both miss get two arrays, and a reduction through shared memory silently drops their
    partial sums (a loss 4% off, now and then, under a short switch interval). The same lookup,
    under a lock. Only under the simulator; a GPU's shared memory is the hardware's."""
    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support
    cls = kernelapi.FakeCUDAShared
    if getattr(cls, "_stepjit_locked", False):
        return
    unlocked, lock = cls.array, threading.Lock()

    def array(self, shape, dtype):
        if shape == 0:      # dynamic shared memory: one buffer, no lookup
            return unlocked(self, shape, dtype)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)   # the simulator's own key
        with lock:
            res = self._allocations.get(key)
            if res is None:
                if isinstance(dtype, types.Type):
                    dtype = numpy_support.as_dtype(dtype)
                res = self._allocations[key] = np.empty(shape, dtype)
        return res

    cls.array = array
    cls._stepjit_locked = True


def is_available() -> bool:
    """True when numba.cuda can run kernels: a real GPU, or Numba's CUDA simulator."""
    if _STATE["available"] is None:
        cuda = _numba_cuda()
        try:
            _STATE["available"] = bool(cuda is not None and cuda.is_available())
        except Exception:  # noqa: BLE001 - a driver error means "not available"
            _STATE["available"] = False
    return _STATE["available"]


def is_simulator() -> bool:
    """Whether kernels run in Numba's CUDA simulator (Python threads, for tests) rather than a GPU."""
    cuda = _numba_cuda()
    return bool(cuda is not None and getattr(cuda, "simulator_enabled", False)
                or config.cuda_simulator())


def device_count() -> int:
    if not is_available():
        return 0
    try:
        return len(_numba_cuda().gpus)
    except Exception:  # noqa: BLE001
        return 1


def get_device_name(device=None) -> str:
    if not is_available():
        raise RuntimeError(unavailable_message())
    if is_simulator():
        return "Numba CUDA simulator"
    name = _numba_cuda().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def current_device() -> int:
    require()
    return 0


def synchronize(device=None) -> None:
    """Wait for every kernel launched so far (kernels run asynchronously on a GPU)."""
    if is_available():
        _numba_cuda().synchronize()


def manual_seed(seed) -> None:
    from .random import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed


def unavailable_message() -> str:
    why = "numba.cuda found no GPU" if _numba_cuda() is not None else "numba.cuda cannot be imported"
    return (f"stepjit has no CUDA device: {why} (set NUMBA_ENABLE_CUDASIM=1 for Numba's simulator). "
            "Use the idiom device = 'cuda' if stepjit.cuda.is_available() else 'cpu'.")


def require() -> None:
    if not is_available():
        from .errors import user_location
        raise RuntimeError(f"{unavailable_message()} (at {user_location()})")


# -- device arrays -------------------------------------------------------------------------
def is_device_array(a) -> bool:
    """Whether `a` is device storage (anything with copy_to_host that is not a NumPy array)."""
    return type(a) is not np.ndarray and hasattr(a, "copy_to_host")


def _c_order(a, dtype=None) -> np.ndarray:
    """a as a C-contiguous array of its own shape (np.ascontiguousarray makes 0-dim arrays 1-D)."""
    a = np.asarray(a, dtype=dtype)
    return a if a.flags.c_contiguous else a.copy(order="C")


def to_device(a: np.ndarray):
    require()
    _STATE["used"] = True
    return _numba_cuda().to_device(_c_order(a))


def to_host(a) -> np.ndarray:
    return a.copy_to_host() if is_device_array(a) else a


def empty(shape, dtype):
    require()
    return _numba_cuda().device_array(tuple(shape), dtype=np.dtype(dtype))


def copy_into(dst, src) -> None:
    """dst[...] = src for a device dst (src on the device or the host), same shape and dtype."""
    if is_device_array(src):
        dst.copy_to_device(src)
    else:
        dst.copy_to_device(_c_order(src, dst.dtype))


def clone_array(a):
    """A device-to-device copy of device array `a` (contiguous)."""
    out = empty(a.shape, a.dtype)
    out.copy_to_device(a)
    return out


def is_bf16_supported(including_emulation=True) -> bool:
    """False: stepjit has no bfloat16 kernels (see stepjit/amp.py)."""
    return False


def set_device(device) -> None:
    """Select the device kernels run on: stepjit drives one, device 0."""
    require()
    index = getattr(device, "index", device)
    if index not in (None, 0) and not (isinstance(index, str) and index in ("cuda", "cuda:0")):
        raise RuntimeError(f"stepjit.cuda.set_device({device!r}): stepjit runs on CUDA device 0 only")


def empty_cache() -> None:
    """Return cached device memory to the driver: numba frees as arrays die, so nothing is held."""
    if is_available():
        _numba_cuda().current_context().deallocations.clear()


# -- memory and timing queries -------------------------------------------------------------
# Without a CUDA device these answer as CPU-only PyTorch does: the memory counters are 0 and
# memory_stats is empty, while queries about a device (capability, properties, free memory,
# events, peak resets) raise. On a device, stepjit has no caching allocator of its own: numba
# frees an array when it dies, so "allocated" and "reserved" are both the driver's memory in
# use, and peaks are not tracked (asking for one raises instead of guessing).


def _memory_info():
    """(free, total) from the driver; (0, 0) under the simulator, which keeps no account."""
    free, total = _numba_cuda().current_context().get_memory_info()
    if not all(map(np.isfinite, (free, total))):
        return 0, 0
    return int(free), int(total)


def memory_allocated(device=None) -> int:
    """Device memory in use, from the driver (total minus free); 0 without a device."""
    if not is_available():
        return 0
    free, total = _memory_info()
    return total - free


memory_reserved = memory_allocated


def memory_cached(device=None) -> int:
    return memory_reserved(device)


def _no_peaks(name):
    raise NotImplementedError(f"stepjit.cuda.{name}: stepjit does not track peak device memory; "
                              "memory_allocated() gives the driver's memory in use now")


def max_memory_allocated(device=None) -> int:
    if not is_available():
        return 0
    _no_peaks("max_memory_allocated")


def max_memory_reserved(device=None) -> int:
    if not is_available():
        return 0
    _no_peaks("max_memory_reserved")


def reset_peak_memory_stats(device=None) -> None:
    require()
    _no_peaks("reset_peak_memory_stats")


reset_max_memory_allocated = reset_max_memory_cached = reset_peak_memory_stats


def memory_stats(device=None) -> dict:
    if not is_available():
        return {}
    used = memory_allocated(device)
    return {"allocated_bytes.all.current": used, "reserved_bytes.all.current": used}


def memory_summary(device=None, abbreviated=False) -> str:
    require()
    return f"stepjit CUDA memory in use (driver): {memory_allocated(device)} bytes"


def mem_get_info(device=None) -> tuple:
    """(free, total) device memory in bytes."""
    require()
    return _memory_info()


def get_device_capability(device=None) -> tuple:
    require()
    return tuple(_numba_cuda().current_context().device.compute_capability)


class _DeviceProperties:
    def __init__(self, dev, total_memory):
        self.name = get_device_name()
        self.major, self.minor = tuple(dev.compute_capability)
        self.total_memory = total_memory
        self.multi_processor_count = getattr(dev, "MULTIPROCESSOR_COUNT", 0)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2 ** 20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    require()
    return _DeviceProperties(_numba_cuda().current_context().device, mem_get_info(device)[1])


def ipc_collect() -> None:
    require()


class Event:
    """A CUDA event (numba's): record() marks the stream, elapsed_time(end) gives milliseconds
    between two recorded events. Under the simulator, whose kernels run synchronously, the
    host clock stands in. Without a device, constructing one raises as PyTorch's does."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if not is_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self._event = None if is_simulator() else _numba_cuda().event(timing=enable_timing)
        self._host_time = None

    def record(self, stream=None):
        if self._event is None:
            self._host_time = time.perf_counter()
        else:
            self._event.record()

    def wait(self, stream=None):
        if self._event is not None:
            self._event.wait()

    def query(self) -> bool:
        return True if self._event is None else bool(self._event.query())

    def synchronize(self):
        if self._event is not None:
            self._event.synchronize()

    def elapsed_time(self, end_event) -> float:
        if self._event is None:
            return (end_event._host_time - self._host_time) * 1e3
        return float(_numba_cuda().event_elapsed_time(self._event, end_event._event))
