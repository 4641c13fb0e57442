"""`axis=`, NumPy's name for `dim`, which PyTorch accepts in every function and method that
takes a `dim` (`torch.cat(ts, axis=1)`, `x.sort(axis=0)`), written once for all of them:
api.py wraps its tensor functions and methods.bind the Tensor methods. Functions that name
`axis` themselves (the reductions, which also take NumPy's `keepdims`) are left as they are.
"""
from __future__ import annotations

import functools
import inspect

_UNSET = object()


def accepting_axis(fn):
    """fn with `axis=` as another spelling of its `dim` (fn itself when that cannot apply)."""
    if not inspect.isfunction(fn):
        return fn
    params = inspect.signature(fn).parameters
    if "dim" not in params or "axis" in params:
        return fn

    @functools.wraps(fn)
    def call(*args, axis=_UNSET, **kwargs):
        if axis is not _UNSET:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'")
            kwargs["dim"] = axis
        return fn(*args, **kwargs)
    return call


def wrap_namespace(namespace):
    """Give every public function of `namespace` defined in stepjit/ops an axis= alias."""
    for name, value in list(namespace.items()):
        if (inspect.isfunction(value) and not name.startswith("_")
                and getattr(value, "__module__", "").startswith(__package__)):
            namespace[name] = accepting_axis(value)
