"""The tracer: runs a step once with trace-time tensors and records what it did as IR."""
from .trace import Trace, make_ir, trace  # noqa: F401
from .tracer import TraceError, Tracer  # noqa: F401
