"""`torch.sparse`: the sparse COO functions (stepjit/ops/sparse.py holds the tensor type), and
the legacy typed constructors `torch.sparse.FloatTensor(indices, values, size)` that older
programs (pygcn's `sparse_mx_to_torch_sparse_tensor`) still call."""
import numbers

from .ir.types import float32, float64, int32, int64
from .ops.creation import zeros
from .ops.sparse import SparseTensor, is_sparse, mm, sparse_coo_tensor, sum  # noqa: F401
from .tensor import Size, Tensor


class _LegacySparseType(type):
    def __instancecheck__(cls, obj):
        return is_sparse(obj) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        """(indices, values[, size]), or a size: an empty sparse tensor of that shape."""
        if len(args) in (2, 3) and all(isinstance(a, Tensor) for a in args[:2]):
            return sparse_coo_tensor(args[0], args[1].to(cls.dtype), *args[2:], device=device)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (Size, tuple)) else args
        if all(isinstance(n, numbers.Integral) for n in size):
            return sparse_coo_tensor(zeros(len(size), 0, dtype=int64),
                                     zeros(0, dtype=cls.dtype), size, device=device)
        raise TypeError(f"torch.sparse.{cls.__name__}(): expected (indices, values[, size]) "
                        f"or a size, got ({', '.join(type(a).__name__ for a in args)})")


def _legacy(name, dtype):
    return _LegacySparseType(name, (), {"dtype": dtype, "__module__": "stepjit.sparse"})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", int32)
