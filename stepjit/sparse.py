"""`torch.sparse`: the sparse COO functions (stepjit/ops/sparse.py holds the tensor type)."""
from .ops.sparse import SparseTensor, mm, sparse_coo_tensor, sum  # noqa: F401
