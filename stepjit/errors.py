"""Exceptions a user sees, and the search for the user's source line they name.

They subclass RuntimeError because PyTorch raises RuntimeError for the same
mistakes, so `except RuntimeError` in user code keeps working.
"""
from __future__ import annotations

import os
import re
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


class StepjitError(RuntimeError):
    """Base class; `op` and `where` are filled in by the dispatcher."""


class OutOfMemoryError(RuntimeError):
    """A device ran out of memory (PyTorch's torch.OutOfMemoryError, torch.cuda's too)."""


class AcceleratorError(RuntimeError):
    """An accelerator reported an error (PyTorch's torch.AcceleratorError)."""


class LinAlgError(StepjitError):
    """A linear-algebra routine met a singular or not positive-definite matrix (PyTorch's
    torch.linalg.LinAlgError, a RuntimeError)."""


class ShapeError(StepjitError):
    pass


class DTypeError(StepjitError):
    pass


class UnsupportedDTypeError(DTypeError, NotImplementedError):
    """An op given a dtype it has no kernel for (`&` of floats). PyTorch raises
    NotImplementedError ('"bitwise_and_cpu" not implemented for 'Float''), so this error is
    both a NotImplementedError and one of ours."""


class IndexingError(ShapeError, IndexError):
    """An index that does not fit the tensor (out of bounds, index tensors that do not
    broadcast, too many indices, a float index). PyTorch raises IndexError for these, and
    Python's protocols rely on it (`except IndexError`, iteration through __getitem__), so this
    error is both an IndexError and one of ours."""


def numpy_index_message(e: IndexError) -> str:
    """NumPy's words for a bad index, in PyTorch's terms (a tensor has dimensions, not axes)."""
    return re.sub(r"\barray", "tensor", re.sub(r"\baxis\b", "dimension", str(e)))


class EagerOnly(StepjitError):
    """Raised while a step is traced by something a trace cannot follow but eager runs
    correctly (the tracer's Untraceable is one; the front end raises it directly, e.g. for
    saved-tensor hooks): the compiled function runs this call and later ones eagerly, warning
    once with `why`, which names the user's line."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


class EagerFirst(StepjitError):
    """Raised while a step is traced when this call must run eagerly before any trace can
    describe the step: a lazy layer's first input, which creates its weights (TorchDynamo
    runs a lazy module's initialization eagerly too). The compiled function runs the call
    eagerly and traces the next one; the trace changed no tensor."""


class CheckError(StepjitError):
    """Check mode (`stepjit.compile(check=True)`, STEPJIT_CHECK=1) found a compiled value that
    disagrees with the IR interpreter, or a custom Function whose backward disagrees with
    finite differences. Raised before anything is written back to the step's tensors.

    For a value: `value` ("%name"), `op` (its IR line), `loc` (the user's source line),
    `max_abs`, `max_rel`, `index` (the worst element). For a Function: `function` (the class
    name) and `input` (the index of the input whose gradient is wrong)."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.value = self.op = self.loc = self.index = None
        self.max_abs = self.max_rel = None
        self.function = self.input = None
        for k, v in details.items():
            setattr(self, k, v)


def user_frame(depth: int = 1):
    """The innermost frame whose code lives outside the stepjit package."""
    f = sys._getframe(depth)
    while f is not None and _ours(f.f_code.co_filename):
        f = f.f_back
    return f


def user_stacklevel() -> int:
    """The stacklevel for warnings.warn, evaluated in the call that warns, naming the user's
    line (the innermost frame outside the package): a fixed count named a runtime line where
    the call reached the warning through another path (a miss, a first call, a probe)."""
    f, level = sys._getframe(1), 1
    while f is not None and _ours(f.f_code.co_filename):
        f, level = f.f_back, level + 1
    return level


def _ours(path) -> bool:
    ours = _OURS.get(path)
    if ours is None:
        # (generated code, "<stepjit cpu program ...>", is stepjit's too)
        ours = _OURS[path] = (path.startswith("<stepjit")
                              or os.path.abspath(path).startswith(_PKG_DIR))
    return ours


_OURS: dict = {}   # code file name -> whether it is stepjit's (asked on every traced op)


def user_location(depth: int = 1) -> str:
    f = user_frame(depth + 1)
    if f is None:
        return "<unknown>"
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"


def user_source_line(depth: int = 1) -> tuple[str, int, str]:
    """(file, line number, text of the line) of the user's call, for IR comments."""
    import linecache
    f = user_frame(depth + 1)
    if f is None:
        return ("<unknown>", 0, "")
    path = f.f_code.co_filename
    return (path, f.f_lineno, linecache.getline(path, f.f_lineno).strip())


def op_error(exc: StepjitError, op: str, where=None) -> StepjitError:
    """Re-raise-ready copy of `exc` that names the op and the user's line: `where` (an IR
    node's Loc, for an op run by a compiled program) or else the caller's innermost frame
    outside stepjit."""
    return type(exc)(f"{op}: {exc} (at {where if where is not None else user_location(2)})")
