"""`torch.compiler`'s small public surface: reset() and is_compiling()."""
from .runtime.compiled import reset  # noqa: F401
from . import dispatch


def is_compiling() -> bool:
    """True while stepjit traces a compiled function (PyTorch: while Dynamo traces)."""
    return dispatch.MODE.tracer is not None
