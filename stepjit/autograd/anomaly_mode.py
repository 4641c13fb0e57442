"""torch.autograd's anomaly detection: `set_detect_anomaly(True)` and `with detect_anomaly():`.

While it is on, the eager backward engine (engine.py) checks every gradient a node returns and
raises, naming the node, when one holds a NaN, as PyTorch does ("Function 'DivBackward0'
returned nan values in its 0th output."). A compiled step's backward is part of its program
and is not checked value by value: to find where a NaN comes from, run the step eagerly (or
with `backend="interpret"` under `stepjit.config`'s eager fallback).
"""
from __future__ import annotations

import warnings

import numpy as np


class _State:
    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


STATE = _State()


def is_anomaly_enabled() -> bool:
    return STATE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return STATE.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """torch.set_anomaly_enabled: what set_detect_anomaly sets, as a plain function."""
    STATE.enabled, STATE.check_nan = bool(enabled), bool(check_nan)


class set_detect_anomaly:
    """Sets anomaly detection on or off now; as a context manager, restores it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (STATE.enabled, STATE.check_nan)
        STATE.enabled, STATE.check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.check_nan = self.prev
        return False


class detect_anomaly:
    """Anomaly detection on inside the block (and warns, as PyTorch does, that it is slow)."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = (STATE.enabled, STATE.check_nan)
        STATE.enabled, STATE.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.check_nan = self.prev
        return False


def check_outputs(node, grads):
    """Raise when a gradient `node` returned holds a NaN (eager arrays only)."""
    for i, g in enumerate(grads):
        data = getattr(g, "_data", None)
        if isinstance(data, np.ndarray) and data.dtype.kind in "fc" and np.isnan(data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")
