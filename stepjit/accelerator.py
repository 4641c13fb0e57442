"""`stepjit.accelerator`: PyTorch's device-agnostic queries, answered from `stepjit.cuda`.

stepjit's one accelerator is CUDA through numba.cuda. Where it is not available, the
answers are PyTorch's on a CPU-only machine: not available, no devices, no current
accelerator, and an error for anything that needs one.
"""
from __future__ import annotations

from . import cuda as _cuda
from .tensor import device

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    return _cuda.is_available()


def device_count() -> int:
    return _cuda.device_count()


def current_accelerator(check_available=False):
    """device('cuda') where CUDA runs, else None."""
    return device("cuda") if _cuda.is_available() else None


def _require():
    if not _cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index() -> int:
    _require()
    return _cuda.current_device()


current_device_idx = current_device_index


def set_device_index(index) -> None:
    _require()
    if int(index) >= _cuda.device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index}")


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    _require()
    _cuda.synchronize()


class device_index:
    """`with torch.accelerator.device_index(i):` runs the block with accelerator i current
    (None: the block runs unchanged); stepjit's CUDA has one current device at a time."""

    def __init__(self, device_index):
        self.idx = device_index

    def __enter__(self):
        if self.idx is not None:
            set_device_index(self.idx)
        return self

    def __exit__(self, *exc):
        return False
