"""The tensor functions of stepjit's PyTorch-shaped API, all built on the dispatcher."""
from . import methods as _methods

_methods.bind()
