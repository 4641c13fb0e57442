"""`torch.nn.attention`: choosing scaled_dot_product_attention's kernel. stepjit has one
implementation of F.scaled_dot_product_attention (softmax(q k^T * scale + mask) v, PyTorch's
math backend, which every other backend matches), so `with sdpa_kernel(...):` changes
nothing and any backend list is accepted."""
from __future__ import annotations

import contextlib
import enum

from . import bias  # noqa: F401  (causal_upper_left / causal_lower_right masks)


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    yield
