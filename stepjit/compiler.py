"""`torch.compiler`'s small public surface: reset(), is_compiling() and disable()."""
from .runtime.compiled import reset  # noqa: F401
from . import dispatch


def is_compiling() -> bool:
    """True while stepjit traces a compiled function (PyTorch: while Dynamo traces)."""
    return dispatch.MODE.tracer is not None


def disable(fn=None, recursive=True, *, reason=None):
    """PyTorch's mark for a function Dynamo must not compile (it runs in Python, a graph
    break). stepjit traces a compiled step's Python as a whole and guards what it reads, so a
    disabled function called from a compiled step is traced with it: its values are the same,
    and a side effect it has (printing, a clock) makes the step retrace as any other would.
    As a decorator with or without arguments; the function is returned unchanged."""
    if fn is None:
        return lambda f: f
    return fn
