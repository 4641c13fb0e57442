"""PyTorch's legacy typed-tensor names: `torch.LongTensor(n)`, `torch.FloatTensor([1, 2])`,
`isinstance(t, torch.FloatTensor)`, `t.type(torch.LongTensor)`.

Each name is a class whose construction follows the legacy constructor: integers are a size
(an uninitialized tensor, here zeros), a list or array is data, a tensor is shared; an
isinstance check asks the tensor's dtype, which is what such a name stands for.
"""
from __future__ import annotations

import numbers

from .. import cuda as _cuda
from ..ir.types import bfloat16, bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from ..tensor import Size, Tensor
from . import creation


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].to(cls.dtype)
        if len(args) == 1 and isinstance(args[0], Size):   # FloatTensor(x.size()): a size
            return creation.zeros(*args[0], dtype=cls.dtype, device=device)
        if not args:     # torch.FloatTensor(): an empty 1-D tensor, as Tensor() is
            return creation.zeros(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, numbers.Integral) for a in args):
            return creation.zeros(*args, dtype=cls.dtype, device=device)
        if len(args) == 1:
            return creation.tensor(args[0], dtype=cls.dtype, device=device)
        raise TypeError(f"{cls.__name__}(): expected a size (ints), a sequence or a tensor, "
                        f"got {', '.join(type(a).__name__ for a in args)}")

    def __repr__(cls):
        return f"<class 'stepjit.{cls.__name__}'>"


def _legacy(name, dtype):
    return _LegacyType(name, (), {"dtype": dtype, "__module__": "stepjit"})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", int32)
BoolTensor = _legacy("BoolTensor", bool_)
ByteTensor = _legacy("ByteTensor", uint8)
CharTensor = _legacy("CharTensor", int8)
ShortTensor = _legacy("ShortTensor", int16)
BFloat16Tensor = _legacy("BFloat16Tensor", bfloat16)   # (made by .to / .type: storage only)
BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor,
                                   ByteTensor, CharTensor, ShortTensor, BFloat16Tensor)}


class _CudaLegacyType(_LegacyType):
    """`torch.cuda.FloatTensor` and kin: a tensor of that dtype on the CUDA device. Making one
    needs CUDA (PyTorch's error where there is none); isinstance asks dtype and device."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cuda"

    def __call__(cls, *args, device=None):
        if not _cuda.is_available():
            raise TypeError(f"type torch.cuda.{cls.__name__} not available. Torch not compiled "
                            "with CUDA enabled.")
        return super().__call__(*args, device="cuda" if device is None else device)

    def __repr__(cls):
        return f"<class 'stepjit.cuda.{cls.__name__}'>"


def _cuda_legacy(name, dtype):
    return _CudaLegacyType(name, (), {"dtype": dtype, "__module__": "stepjit.cuda",
                                      "is_cuda": True})


CUDA_BY_NAME = {name: _cuda_legacy(name, dtype) for name, dtype in (
    ("FloatTensor", float32), ("DoubleTensor", float64), ("LongTensor", int64),
    ("IntTensor", int32), ("BoolTensor", bool_), ("ByteTensor", uint8), ("CharTensor", int8),
    ("ShortTensor", int16), ("HalfTensor", float16), ("BFloat16Tensor", bfloat16))}
