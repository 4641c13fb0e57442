"""Tensor printing in PyTorch's format: `tensor([2.], grad_fn=<AddBackward0>)`.

This follows torch/_tensor_str.py with its default print options (precision 4,
threshold 1000, edgeitems 3, linewidth 80): one formatter is chosen for the
whole tensor (from the summarized data when the tensor is large), every element
is padded to the formatter's width so columns align, and suffixes (dtype,
grad_fn / requires_grad) wrap onto a new line when the last line would pass the
line width. Only the prefix differs: `dtype=stepjit.float64`.
"""
from __future__ import annotations

import math

import numpy as np

from .ir.bfloat16 import from_bfloat16
from .ir.types import DEFAULT_INT, bfloat16, bool_, default_float

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None   # None: chosen per tensor; True/False: forced (set_printoptions(sci_mode=))

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """PyTorch's print options: a profile sets all four numbers, then each given one wins."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{sorted(_PROFILES)}")
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    PRECISION = PRECISION if precision is None else int(precision)
    THRESHOLD = THRESHOLD if threshold is None else threshold
    EDGEITEMS = EDGEITEMS if edgeitems is None else int(edgeitems)
    LINEWIDTH = LINEWIDTH if linewidth is None else int(linewidth)
    SCI_MODE = sci_mode


class _Formatter:
    """Chooses int / fixed / scientific notation and the column width for one tensor."""

    def __init__(self, a: np.ndarray):
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = a.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if vals.size == 0:
            return
        mags = np.abs(vals)
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if SCI_MODE is not None:
            self.sci_mode = bool(SCI_MODE)
        extra = 1 if self.int_mode and not self.sci_mode else 0  # the trailing "." of "1."
        fmt = (f"{{:.{PRECISION}e}}" if self.sci_mode else
               "{:.0f}" if self.int_mode else f"{{:.{PRECISION}f}}")
        for v in vals.tolist():
            self.max_width = max(self.max_width, len(fmt.format(v)) + extra)

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{PRECISION}f}"
        else:
            s = f"{value}"
        return " " * (self.max_width - len(s)) + s


class _ComplexFormatter:
    """PyTorch's pair of formatters for a complex tensor: one for the real parts, one for the
    imaginary parts, joined as `1.0000+0.5000j`."""

    def __init__(self, a: np.ndarray):
        self.real, self.imag = _Formatter(a.real), _Formatter(a.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value) -> str:
        im = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + (im if im[0] in "+-" else "+" + im)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The edge items of every dimension: what a summarized print shows."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * EDGEITEMS:
        a = np.concatenate([a[:EDGEITEMS], a[-EDGEITEMS:]])
    if a.ndim == 1:
        return a
    return np.stack([_summarized(x) for x in a])


def _vector_str(a, indent, summarize, fmt) -> str:
    per_line = max(1, int(math.floor((LINEWIDTH - indent) / (fmt.max_width + 2))))
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        data = ([fmt.format(v) for v in a[:EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, fmt) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    n = a.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        rows = ([_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
                + [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)])
    else:
        rows = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(body, suffixes, indent) -> str:
    parts = [body]
    last_line_len = len(body) - body.rfind("\n") + 1
    for s in suffixes:
        if last_line_len + len(s) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
        else:
            parts.append(", " + s)
            last_line_len += len(s) + 2
    parts.append(")")
    return "".join(parts)


def format_array(a: np.ndarray, indent: int = 7) -> str:
    """The bracketed body PyTorch prints for array `a` (no prefix, no suffixes)."""
    if a.size == 0:
        return "[]"
    summarize = a.size > THRESHOLD
    fmt = (_ComplexFormatter if a.dtype.kind == "c" else _Formatter)(
        _summarized(a) if summarize else a)
    return _tensor_str(a, indent, summarize, fmt)


def tensor_repr(t, data=None) -> str:
    """PyTorch's text for t; data: its values, when t is a trace-time tensor (Tensor.__repr__)."""
    data = t._data if data is None else data
    suffixes = []
    if t.is_meta:   # no values: PyTorch's placeholder
        suffixes = [f"device='meta'", f"size={tuple(data.shape)}"]
        if t.dtype is not default_float():
            suffixes.append(f"dtype=stepjit.{t.dtype.name}")
        if t.grad_fn is not None:
            suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
        elif t.requires_grad:
            suffixes.append("requires_grad=True")
        return "tensor(..., " + ", ".join(suffixes) + ")"
    if not isinstance(data, np.ndarray) and hasattr(data, "copy_to_host"):  # on the CUDA device
        data = data.copy_to_host()
        suffixes.append(f"device='{t.device}'")
    if not isinstance(data, np.ndarray):
        return f"<trace-time tensor {data}>"
    prefix = "tensor("
    indent = len(prefix)
    dt = t.dtype
    if dt is bfloat16:
        data = from_bfloat16(data)   # (its float values, printed as PyTorch prints them)
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dt is not default_float():
            suffixes.append(f"dtype=stepjit.{dt.name}")
    elif dt is not default_float() and dt is not DEFAULT_INT and dt is not bool_:
        suffixes.append(f"dtype=stepjit.{dt.name}")
    body = format_array(data, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def complex_repr(t) -> str:
    """A complex tensor (ops/complex_numbers.py) printed from its pair of real parts."""
    pair = t._pair._data
    suffixes = []
    if not isinstance(pair, np.ndarray) and hasattr(pair, "copy_to_host"):
        pair = pair.copy_to_host()
        suffixes.append(f"device='{t.device}'")
    if not isinstance(pair, np.ndarray):
        return f"<trace-time complex tensor {pair}>"
    data = np.ascontiguousarray(pair).view(t.dtype.np)[..., 0]
    if t.dtype.itemsize != 2 * default_float().itemsize:   # complex64 is the default
        suffixes.append(f"dtype=stepjit.{t.dtype.name}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes("tensor(" + format_array(data, 7), suffixes, 7)
