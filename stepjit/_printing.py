"""Tensor printing in PyTorch's format: `tensor([2.], grad_fn=<AddBackward0>)`."""
from __future__ import annotations

import numpy as np

from .ir.types import DEFAULT_FLOAT, DEFAULT_INT, FLOAT, bool_


def _format_array(a: np.ndarray) -> str:
    if a.dtype.kind == "f":
        finite = a[np.isfinite(a)]
        big = finite.size and (np.abs(finite).max() >= 1e8 or
                              (np.abs(finite[finite != 0]).min() < 1e-4 if (finite != 0).any() else False))
        ints = finite.size == 0 or np.all(finite == np.round(finite))
        if big:
            fmt = lambda v: f"{v:.4e}"  # noqa: E731
        elif ints:
            fmt = lambda v: f"{v:.0f}."  # noqa: E731
        else:
            fmt = lambda v: f"{v:.4f}"  # noqa: E731
        formatter = {"float_kind": lambda v: fmt(v) if np.isfinite(v) else str(v)}
    elif a.dtype.kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
    else:
        formatter = None
    return np.array2string(a, separator=", ", formatter=formatter, prefix="tensor(",
                           threshold=1000, edgeitems=3, max_line_width=80)


def tensor_repr(t) -> str:
    data = t._data
    if not isinstance(data, np.ndarray):
        return f"<trace-time tensor {data}>"
    body = _format_array(data)
    extras = []
    if t.numel() == 0 and data.ndim != 1:
        extras.append(f"size={tuple(data.shape)}")
    dt = t.dtype
    if dt is not DEFAULT_FLOAT and dt is not DEFAULT_INT and dt is not bool_ or (
            t.numel() == 0 and dt is not DEFAULT_FLOAT):
        extras.append(f"dtype=stepjit.{dt.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"


__all__ = ["tensor_repr", "FLOAT"]
