"""Sparse COO tensors (`torch.sparse_coo_tensor`, `Tensor.to_sparse()`, `torch.sparse.mm`,
`torch.spmm`): what graph programs (GCN and GAT on an adjacency matrix) reach for.

A sparse tensor is two ordinary tensors, `indices` (int64, [ndim, nnz]) and `values` ([nnz]),
and a shape. Its operations are compositions of dense tensor ops on those two, so the
registry's primitives, their gradients and both backends serve them unchanged, eagerly and
compiled:

    to_dense(S)         zeros(numel).index_add(0, linear index, values).view(shape)
    S @ D   (S: n x m)  zeros(n, k).index_add(0, rows, values[:, None] * D[cols])
    D @ S   (S: m x k)  zeros(n, k).index_add(1, cols, D[:, rows] * values[None, :])
    D + S               D + to_dense(S)            (dense result, as PyTorch's)
    S + S, S * c, -S    concatenated / scaled entries (sparse result, uncoalesced)

Gradients flow to the dense operand and to `values` when it requires grad (then
`S.values().grad`-style access goes through the tensor given to `sparse_coo_tensor`);
a sparse tensor itself has no `.grad`. Uncoalesced tensors (repeated indices) are allowed,
as in PyTorch: every op above sums repeated entries; `coalesce()` merges them, sorted by
row-major index. Only sparse dimensions are supported (values of shape [nnz]; PyTorch's
hybrid tensors with dense trailing dimensions raise). Any other op given a sparse tensor
raises a TypeError naming the op (stepjit.dispatch), never a wrong value: call `.to_dense()`.
"""
from __future__ import annotations

import numpy as np

from ..ir.types import as_dtype, float32, float64, int64
from ..layouts import sparse_coo
from ..tensor import Size, Tensor

from . import creation, elementwise, reduce, shape, sorting, typing_rules
from .search import unravel_index


class _Ops:
    """The dense ops this module composes, under their torch names."""
    Tensor, Size, float32, float64, int64 = Tensor, Size, float32, float64, int64
    zeros, as_tensor = staticmethod(creation.zeros), staticmethod(creation.as_tensor)
    add = staticmethod(elementwise.add)
    mm, cat, stack = staticmethod(shape.mm), staticmethod(shape.cat), staticmethod(shape.stack)
    sum, unique = staticmethod(reduce.sum), staticmethod(sorting.unique)
    promote_types = staticmethod(typing_rules.promote_types)


def _ops():
    return _Ops


class SparseTensor:
    """A COO tensor: indices [ndim, nnz] (int64), values [nnz], shape."""

    is_sparse = True
    layout = sparse_coo

    def __init__(self, indices, values, shape, coalesced=False):
        self._idx, self._val = indices, values
        self.shape = _ops().Size(shape)
        self._coalesced = coalesced

    # -- what a tensor answers -------------------------------------------------------------
    @property
    def dtype(self):
        return self._val.dtype

    @property
    def device(self):
        return self._val.device

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def requires_grad(self):
        return self._val.requires_grad

    is_cuda = False

    def dim(self):
        return len(self.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def sparse_dim(self):
        return len(self.shape)

    def dense_dim(self):
        return 0

    def _nnz(self):
        return int(self._val.shape[0])

    def is_coalesced(self):
        return self._coalesced

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._idx

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._val

    def _indices(self):
        return self._idx

    def _values(self):
        return self._val

    def __repr__(self):
        return (f"tensor(indices={self._idx!r},\n       values={self._val!r},\n"
                f"       size={tuple(self.shape)}, nnz={self._nnz()}, layout=stepjit.sparse_coo)")

    # -- conversions -----------------------------------------------------------------------
    def to_dense(self, dtype=None):
        t = _ops()
        values = self._val if dtype is None else self._val.to(dtype)
        flat = t.zeros(self.numel(), dtype=values.dtype).index_add(0, self._linear(), values)
        return flat.view(tuple(self.shape))

    def coalesce(self):
        """Repeated indices summed, entries sorted by row-major index (PyTorch's order)."""
        if self._coalesced:
            return self
        t = _ops()
        keys, inverse = t.unique(self._linear(), return_inverse=True)
        values = t.zeros(keys.shape[0], dtype=self.dtype).index_add(0, inverse, self._val)
        return SparseTensor(_unravel(keys, self.shape), values, self.shape, coalesced=True)

    def to(self, *args, **kwargs):
        return SparseTensor(self._idx, self._val.to(*args, **kwargs), self.shape,
                            self._coalesced)

    def cpu(self):
        return self

    def double(self):
        return self.to(_ops().float64)

    def float(self):
        return self.to(_ops().float32)

    def long(self):
        return self.to(_ops().int64)

    def type(self, dtype):
        return self.to(dtype)

    def detach(self):
        return SparseTensor(self._idx, self._val.detach(), self.shape, self._coalesced)

    def clone(self):
        return SparseTensor(self._idx.clone(), self._val.clone(), self.shape,
                            self._coalesced)

    def to_sparse(self):
        return self

    def t(self):
        if self.ndim != 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self.transpose(0, 1)

    def transpose(self, dim0, dim1):
        order = list(range(self.ndim))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        shape = [self.shape[d] for d in order]
        return SparseTensor(self._idx[order], self._val, shape)

    # -- arithmetic ------------------------------------------------------------------------
    def __matmul__(self, other):
        return mm(self, other)

    def __rmatmul__(self, other):
        return mm(other, self)

    def mm(self, other):
        return mm(self, other)

    def matmul(self, other):
        return mm(self, other)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return add(self, other, alpha=-1)

    def __rsub__(self, other):
        return add(other, self, alpha=-1)

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def __mul__(self, other):
        if not isinstance(other, (bool, int, float)):
            raise TypeError("a sparse COO tensor multiplies only by a Python number here; "
                            "call .to_dense() first")
        return SparseTensor(self._idx, self._val * other, self.shape, self._coalesced)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    # -- helpers ---------------------------------------------------------------------------
    def _linear(self):
        """Each entry's row-major offset in the dense tensor (int64 [nnz])."""
        strides = np.cumprod((1,) + tuple(self.shape[::-1]))[:-1][::-1]
        t = _ops()
        lin = t.zeros(self._nnz(), dtype=int64)
        for d, s in enumerate(strides):
            lin = lin + self._idx[d] * int(s)
        return lin


def _unravel(linear, shape):
    """indices [ndim, nnz] of row-major offsets (torch.unravel_index's coordinates, stacked)."""
    t = _ops()
    return t.stack(unravel_index(linear, shape)) if len(shape) else t.zeros(0, 1, dtype=int64)


def is_sparse(x) -> bool:
    return isinstance(x, SparseTensor)


# -- construction ---------------------------------------------------------------------------
def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """PyTorch's torch.sparse_coo_tensor for sparse-only (not hybrid) tensors."""
    t = _ops()
    idx = indices if isinstance(indices, t.Tensor) else t.as_tensor(np.asarray(indices))
    val = values if isinstance(values, t.Tensor) else t.as_tensor(values)
    if idx.ndim != 2:
        raise ValueError(f"sparse_coo_tensor: indices must be 2-D [ndim, nnz], got shape "
                         f"{tuple(idx.shape)}")
    if val.ndim != 1 or val.shape[0] != idx.shape[1]:
        raise ValueError(f"sparse_coo_tensor: values of shape {tuple(val.shape)} do not match "
                         f"indices of shape {tuple(idx.shape)} (stepjit supports values of "
                         f"shape [nnz] only: no hybrid sparse tensors)")
    idx = idx.long()
    if size is None:
        size = [int(m) + 1 for m in idx.amax(1).tolist()] if idx.shape[1] else [0] * idx.shape[0]
    size = tuple(int(s) for s in size)
    if len(size) != idx.shape[0]:
        raise ValueError(f"sparse_coo_tensor: {idx.shape[0]} index rows for a size of "
                         f"{len(size)} dimensions")
    if idx.shape[1]:
        lo, hi = idx.amin(1).tolist(), idx.amax(1).tolist()
        for d, (a, b) in enumerate(zip(lo, hi)):
            if a < 0 or b >= size[d]:
                raise ValueError(f"sparse_coo_tensor: index {b if b >= size[d] else a} is out "
                                 f"of bounds for dimension {d} of size {size[d]}")
    if dtype is not None:
        val = val.to(as_dtype(dtype))
    if requires_grad:
        val = val.detach().requires_grad_(True)
    return SparseTensor(idx, val, size, coalesced=bool(is_coalesced))


def to_sparse(dense, sparse_dim=None, *, layout=None):
    """Tensor.to_sparse(): the nonzero entries, in row-major order (coalesced)."""
    if sparse_dim is not None and sparse_dim != dense.ndim:
        raise NotImplementedError("to_sparse(sparse_dim) with dense trailing dimensions "
                                  "(hybrid sparse tensors) is not supported")
    if layout is not None and layout is not sparse_coo:
        raise NotImplementedError(f"to_sparse(layout={layout}): only sparse_coo is supported")
    idx = dense.nonzero().t()
    values = dense[tuple(idx[d] for d in range(dense.ndim))] if dense.ndim else dense.reshape(1)
    return SparseTensor(idx.contiguous(), values, tuple(dense.shape), coalesced=True)


# -- operations -----------------------------------------------------------------------------
def _promoted(values, dense):
    t = _ops()
    dt = t.promote_types(values.dtype, dense.dtype)
    return values.to(dt), dense.to(dt)


def mm(a, b):
    """Products with a sparse operand: sparse @ dense and dense @ sparse are dense; sparse @
    sparse is sparse (through the dense product of the two, coalesced)."""
    t = _ops()
    if not (is_sparse(a) or is_sparse(b)):
        return t.mm(a, b)
    if is_sparse(a) and is_sparse(b):
        return to_sparse(mm(a, b.to_dense()))
    _check_mm(a, b)
    if is_sparse(a):
        values, dense = _promoted(a._val, b)
        rows, cols = a._idx[0], a._idx[1]
        out = t.zeros(a.shape[0], dense.shape[1], dtype=dense.dtype)
        return out.index_add(0, rows, values.unsqueeze(1) * dense.index_select(0, cols))
    values, dense = _promoted(b._val, a)
    rows, cols = b._idx[0], b._idx[1]
    out = t.zeros(dense.shape[0], b.shape[1], dtype=dense.dtype)
    return out.index_add(1, cols, dense.index_select(1, rows) * values.unsqueeze(0))


def _check_mm(a, b):
    t = _ops()
    for x in (a, b):
        if not (is_sparse(x) or isinstance(x, t.Tensor)):
            raise TypeError(f"mm(): expected a Tensor, got {type(x).__name__}")
        if x.ndim != 2:
            raise RuntimeError(f"mm: a sparse product needs 2-D operands, got "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def add(a, b, *, alpha=1):
    """a + alpha * b with a sparse operand: dense when either operand is dense (PyTorch's
    rule), sparse when both are."""
    t = _ops()
    if is_sparse(a) and is_sparse(b):
        _same_shape(a, b)
        values = t.cat(_promoted(a._val, b._val * alpha if alpha != 1 else b._val))
        return SparseTensor(t.cat([a._idx, b._idx], 1), values, a.shape)
    if isinstance(a, (bool, int, float)) or isinstance(b, (bool, int, float)):
        raise TypeError("adding a Python number to a sparse COO tensor is not supported "
                        "(PyTorch raises too); call .to_dense() first")
    _same_shape(a, b)
    dense_a = a.to_dense() if is_sparse(a) else a
    dense_b = b.to_dense() if is_sparse(b) else b
    return t.add(dense_a, dense_b, alpha=alpha)


def _same_shape(a, b):
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"add: a sparse operand needs the other operand's shape: "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")


def sum(input, dim=None, dtype=None):   # noqa: A001 (torch.sparse.sum)
    """torch.sparse.sum: every entry (a dense 0-d tensor), or over dims (a sparse tensor of
    the nonzero sums)."""
    if not is_sparse(input):
        return _ops().sum(input, dim, dtype=dtype)
    values = input._val if dtype is None else input._val.to(dtype)
    if dim is None:
        return values.sum()
    return to_sparse(SparseTensor(input._idx, values, input.shape).to_dense().sum(dim))


# The dense ops' hooks (elementwise.add/sub, shape.mm/matmul) reach these through the operand,
# so the dense modules need not import this one.
SparseTensor.sparse_add = staticmethod(add)
SparseTensor.sparse_mm = staticmethod(mm)
