"""The runtime: compiled functions, their trace cache, guards, execution and write-back."""
from .compiled import CompiledFunction, compile  # noqa: F401
