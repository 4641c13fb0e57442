"""`stepjit.linalg`: norms, inverse, determinant and solve, as torch.linalg spells them.

`inv` and `det` are registry primitives (NumPy's LAPACK calls; their gradients
-inv(A)^T g inv(A)^T and g det(A) inv(A)^T live on the entries). Everything else is a
composite: the norms are reductions of |x|, `solve` is inv(A) @ B (accurate for the
well-conditioned systems of training code; an ill-conditioned one loses what the inverse
loses), `slogdet` and `logdet` go through det. Decompositions (svd, qr, eigh, cholesky) and
the spectral norms that need them are not provided yet and say so.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .dispatch import apply
from .errors import ShapeError, op_error
from .ir import primitives as P
from .ir.primitives.shapes import fmt
from .ops import reduce as R
from .ops.elementwise import abs, where
from .ops.products import cross as _cross
from .ops.series import matrix_power  # noqa: F401
from .ops.shape import matmul  # noqa: F401  (torch.linalg.matmul)
from .tensor import Tensor

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])


def inv(A):
    return apply(P.inv, A)


def det(A):
    return apply(P.det, A)


def slogdet(A):
    d = det(A)
    return slogdet_result(apply(P.sign, d), R.sum(abs(d).log().unsqueeze(-1), -1))


def logdet(A):
    """log det A: NaN for a negative determinant, -inf for zero, as PyTorch."""
    return det(A).log()


def solve(A, B, *, left=True):
    if not left:
        return matmul(B, inv(A))
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise op_error(ShapeError(f"linalg.solve: A must be batches of square matrices, got "
                                  f"{fmt(A.shape)}"), "linalg.solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise op_error(ShapeError(f"linalg.solve: A {fmt(A.shape)} and B {fmt(B.shape)} "
                                  f"cannot be solved: B needs {A.shape[-1]} rows"),
                       "linalg.solve")
    x = matmul(inv(A), b)
    return x.squeeze(-1) if vector else x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over dim (all of x when None); inf/-inf the largest/smallest
    |x|, 0 the count of non-zeros."""
    if dtype is not None:
        x = x.to(dtype)
    if dim is None and not keepdim:
        x, dim = x.reshape(-1), 0
    elif dim is None:
        dim = tuple(range(x.ndim))
    if ord == 2:
        return R.norm(x, 2, dim, keepdim)
    if ord == math.inf:
        return R.amax(abs(x), dim, keepdim)
    if ord == -math.inf:
        return R.amin(abs(x), dim, keepdim)
    if ord == 0:
        return R.sum(apply(P.sign, abs(x)), dim, keepdim)   # (sign's gradient: 0, as PyTorch's)
    return R.norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise op_error(ShapeError(f"linalg.matrix_norm: the input tensor A must have at least "
                                  f"2 dimensions, got {fmt(A.shape)}"), "linalg.matrix_norm")
    r, c = (d % A.ndim for d in dim)
    if ord == "fro":
        return R.norm(A, 2, (r, c), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, reduced = (r, c) if ord in (1, -1) else (c, r)
        sums = R.sum(abs(A), summed, keepdim=True)
        out = (R.amax if ord > 0 else R.amin)(sums, reduced, keepdim=True)
        return out if keepdim else out.squeeze((r, c) if r < c else (c, r))
    raise NotImplementedError(f"linalg.matrix_norm(ord={ord!r}) needs a singular value "
                              f"decomposition, which stepjit does not provide yet")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm over one dim (or all of a flattened input with ord None), a matrix
    norm over two."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        dim = tuple(range(A.ndim))
        if len(dim) not in (1, 2):
            raise op_error(ShapeError(f"linalg.norm: with ord={ord!r} the input must be 1-D or "
                                      f"2-D when dim is None, got {fmt(A.shape)}"), "linalg.norm")
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    return R.sum(apply(P.mul, x, y), dim)


def _no_decomposition(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"linalg.{name} is not provided by stepjit yet "
                                  "(no matrix decompositions)")
    fn.__name__ = name
    return fn


svd, svdvals, qr, eig, eigh, eigvals, eigvalsh, cholesky, lstsq, pinv, matrix_rank = (
    _no_decomposition(n) for n in ("svd", "svdvals", "qr", "eig", "eigh", "eigvals",
                                   "eigvalsh", "cholesky", "lstsq", "pinv", "matrix_rank"))
