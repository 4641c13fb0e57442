"""Tensor products: kron, tensordot, cross — reshapes, broadcasts and one matmul (or
elementwise products), so each gradient is the primitives' own."""
from __future__ import annotations

from ..dispatch import apply
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt
from .creation import tensor
from .index import index_select
from .shape import _dim, permute, reshape


def kron(input, other):
    """Kronecker product: result[i*m + k] = a[i] * b[k] along every axis (ranks aligned by
    leading ones)."""
    nd = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (nd - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (nd - other.ndim) + tuple(other.shape))
    # a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...): the product interleaves the axes
    ai = reshape(a, tuple(s for n in a.shape for s in (n, 1)))
    bi = reshape(b, tuple(s for n in b.shape for s in (1, n)))
    out = apply(P.mul, ai, bi)
    return reshape(out, tuple(x * y for x, y in zip(a.shape, b.shape)))


def tensordot(a, b, dims=2):
    """Contract a's dims_a with b's dims_b: the free axes of a, then those of b."""
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise op_error(ShapeError(f"tensordot expects dims between 0 and "
                                      f"{min(a.ndim, b.ndim)}, got {dims}"), "tensordot")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        if hasattr(da, "tolist"):
            da, db = da.tolist(), db.tolist()
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [_dim(d, a.ndim, "tensordot") for d in da]
    db = [_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise op_error(ShapeError(f"tensordot: contracted dimensions {da} of {fmt(a.shape)} "
                                  f"and {db} of {fmt(b.shape)} do not match"), "tensordot")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    am = reshape(permute(a, fa + da), (-1, k))
    bm = reshape(permute(b, db + fb), (k, -1))
    out_shape = tuple(a.shape[i] for i in fa) + tuple(b.shape[j] for j in fb)
    return reshape(apply(P.matmul, am, bm), out_shape)


_NEXT = tensor([1, 2, 0])
_PREV = tensor([2, 0, 1])


def cross(input, other, dim=None):
    """3-vector cross product along dim (default: the first axis of size 3, PyTorch's
    torch.cross; linalg.cross uses -1)."""
    shape = tuple(apply(P.add, input, other).shape) if input.shape != other.shape \
        else tuple(input.shape)
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise op_error(ShapeError(f"cross: no dimension of size 3 in input {fmt(shape)}"),
                           "cross")
    a = input.expand(*shape) if tuple(input.shape) != shape else input
    b = other.expand(*shape) if tuple(other.shape) != shape else other
    d = _dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise op_error(ShapeError(f"cross: inputs {fmt(input.shape)} and {fmt(other.shape)} "
                                  f"must have size 3 at dimension {dim}"), "cross")
    an, ap = index_select(a, d, _NEXT), index_select(a, d, _PREV)
    bn, bp = index_select(b, d, _NEXT), index_select(b, d, _PREV)
    return apply(P.sub, apply(P.mul, an, bp), apply(P.mul, ap, bn))
