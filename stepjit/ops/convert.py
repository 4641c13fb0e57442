"""`.to(...)`: dtype conversion and device placement (CPU only until the CUDA backend lands)."""
from __future__ import annotations

from ..dispatch import apply
from ..ir import primitives as P
from ..ir.types import DType, as_dtype


def no_cuda():
    raise RuntimeError("stepjit was not given a CUDA device: stepjit.cuda.is_available() is False. "
                       "Use the idiom device = 'cuda' if stepjit.cuda.is_available() else 'cpu'.")


def resolve_device(d):
    from ..tensor import device
    dev = device(d) if not isinstance(d, device) else d
    if dev.type == "cuda":
        no_cuda()
    return dev


def _is_device(x):
    from ..tensor import Tensor, device
    if isinstance(x, device):
        return True
    return isinstance(x, str) and not isinstance(x, Tensor) and x.split(":")[0] in ("cpu", "cuda")


def to(input, *args, dtype=None, device=None, copy=False, non_blocking=False):
    from ..tensor import Tensor
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif _is_device(a):
            device = a
        else:
            dtype = a
    if device is not None:
        resolve_device(device)
    if dtype is None or as_dtype(dtype) is input.dtype:
        return input.clone() if copy else input
    return cast(input, as_dtype(dtype))


def cast(input, dtype: DType):
    return apply(P.cast, input, dtype=dtype)
