"""stepjit.nn: PyTorch's Module system, layers, losses, initializers and nn.functional.

Layers are Modules whose forward calls `nn.functional`, and nn.functional is
written with stepjit tensor ops only, so a model's forward and backward reach
the dispatcher as primitives, in eager runs and in traces alike.
"""
from . import attention, functional, grad, init, parallel, utils  # noqa: F401
from .modules import *  # noqa: F401,F403  (every layer; the list is modules/__init__.py)
from .modules import Module  # noqa: F401
from .parameter import (  # noqa: F401
    Buffer, Parameter, UninitializedBuffer, UninitializedParameter)
from .parallel import DataParallel  # noqa: F401

import sys as _sys
# The star import above binds `attention` to modules/attention.py (MultiheadAttention's file);
# nn.attention is PyTorch's namespace of sdpa_kernel and SDPBackend (nn/attention.py).
attention = _sys.modules[__name__ + ".attention"]
del _sys
