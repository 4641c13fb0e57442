"""`stepjit.linalg`: norms, inverse, determinant and solve, as torch.linalg spells them.

`inv` and `det` are registry primitives (NumPy's LAPACK calls; their gradients
-inv(A)^T g inv(A)^T and g det(A) inv(A)^T live on the entries). Everything else is a
composite: the norms are reductions of |x|, `solve` is inv(A) @ B (accurate for the
well-conditioned systems of training code; an ill-conditioned one loses what the inverse
loses), `slogdet` and `logdet` go through det. The decompositions (cholesky, qr, svd,
eigh) are primitives too, one per result (ir/primitives/decompositions.py); pinv,
matrix_rank, the spectral norms and `lstsq` (pinv(A) @ B, the minimum-norm least-squares
solution) are composites of the SVD. eig and eigvals return complex tensors, which stepjit
does not have: they say so and point to eigh.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .dispatch import apply
from .errors import LinAlgError, ShapeError, op_error, user_location  # noqa: F401
from .ir import primitives as P
from .ir.primitives.decompositions import lu_permutation
from .ir.primitives.shapes import fmt
from .ir.types import FLOAT, int32, int64
from .ops import reduce as R
from .ops.creation import eye, ones, zeros
from .ops.elementwise import abs, where
from .ops.products import cross as _cross
from .ops.series import matrix_power  # noqa: F401
from .ops.shape import cat, matmul, movedim  # noqa: F401  (torch.linalg.matmul)
from .ops.sorting import cumprod
from .ops.tiling import diagonal as _diagonal
from .ops import return_types
from .tensor import Tensor



def inv(A):
    return apply(P.inv, A)


def det(A):
    return apply(P.det, A)


def slogdet(A):
    d = det(A)
    return return_types.linalg_slogdet(apply(P.sign, d), R.sum(abs(d).log().unsqueeze(-1), -1))


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
    if ord in (2, -2, "nuc"):
        s = svdvals(A.movedim((r, c), (-2, -1)))
        out = R.sum(s, -1) if ord == "nuc" else (R.amax if ord == 2 else R.amin)(s, -1)
        return out.unsqueeze(min(r, c)).unsqueeze(max(r, c)) if keepdim else out
    raise ValueError(f"linalg.matrix_norm: Order {ord!r} not supported.")


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


def _complex_result(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(
            f"linalg.{name}: the eigenvalues of a general matrix are complex, and stepjit has no "
            "complex dtypes. For a symmetric matrix, linalg.eigh / eigvalsh give them (real, "
            "with gradients); singular values: linalg.svdvals")
    fn.__name__ = name
    return fn


eig, eigvals = _complex_result("eig"), _complex_result("eigvals")
_DRIVERS = (None, "gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B, as pinv(A) @ B: the minimum-norm solution, the
    one LAPACK's drivers give for full-rank A (and gelsy/gelsd/gelss for any A), with the
    gradient of the SVD. Residuals, rank and singular values as PyTorch returns them for each
    driver (empty where that driver does not compute them); B of shape (*, m) when it has one
    dimension less than A."""
    _lstsq_check(A, B, driver)
    vector = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    if A.shape[-2] != b.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"(shapes {fmt(A.shape)} and {fmt(B.shape)}) (at {user_location()})")
    m, n = A.shape[-2:]
    if rcond is None or rcond <= 0:
        rcond = float(np.finfo(A.dtype.np).eps) * max(m, n)
    X = matmul(pinv(A, rtol=rcond), b)
    empty = zeros(0, dtype=A.dtype)
    rank = (matrix_rank(A, rtol=rcond) if driver != "gels" else zeros(0, dtype=int64))
    residuals = empty
    if driver not in (None, "gelsy") and m > n and (
            driver == "gels" or bool((rank == min(m, n)).all())):
        residuals = R.sum((matmul(A, X) - b) ** 2, -2)   # (a vector B's keeps its k = 1)
    # (PyTorch's singular values of lstsq carry no gradient)
    values = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty
    return return_types.linalg_lstsq(X.squeeze(-1) if vector else X, residuals, rank, values)


def _lstsq_check(A, B, driver):
    if driver not in _DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"(gels, gelsy, gelsd, gelss), got {driver!r}")
    for name, t in (("input", A), ("other", B)):
        if not isinstance(t, Tensor) or t.dtype.category != FLOAT:
            raise RuntimeError(f"torch.linalg.lstsq: Expected {name} to be a floating point "
                               f"tensor, got {getattr(t, 'dtype', type(t).__name__)}")
    if A.ndim < 2 or B.ndim < 1:
        raise RuntimeError(f"torch.linalg.lstsq: input must have at least 2 dimensions (shapes "
                           f"{fmt(A.shape)} and {fmt(B.shape)})")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got {A.dtype.name} and {B.dtype.name}")


_TAYLOR_TERMS = 18


def matrix_exp(A):
    """exp(A) by scaling and squaring: A / 2^s has 1-norm at most 1/2, where the Taylor series
    to 18 terms (Horner's form) is exact to rounding (the first term left out is below
    0.5^19 / 19! ~ 1e-23), then squared s times. A composite of matmuls, so its gradient is
    the chain rule through them. The number of squarings reads the matrix's norm: a compiled
    step holds it as a data-dependent decision."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, got "
                           f"shape {fmt(A.shape)} (at {user_location()})")
    if A.dtype.category != FLOAT:
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point tensor, got "
                           f"{A.dtype.name} (at {user_location()})")
    norm = float(R.amax(R.sum(abs(A), -2))) if A.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    X = A * (0.5 ** squarings)
    identity = eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(*A.shape)
    E = identity
    for k in range(_TAYLOR_TERMS, 0, -1):
        E = identity + matmul(X, E) * (1.0 / k)
    for _ in range(squarings):
        E = matmul(E, E)
    return E


# -- decompositions (registry primitives, one per result: ir/primitives/decompositions.py) --


def cholesky(A, *, upper=False):
    """L with A = L L^T (or U with A = U^T U); A is read as symmetric (its symmetric part)."""
    L = apply(P.cholesky, A)
    return L.mT if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False):
    return return_types.linalg_cholesky_ex(cholesky(A, upper=upper),
                              apply(P.full, shape=tuple(A.shape[:-2]), value=0, dtype=int32))


def qr(A, mode="reduced"):
    if mode == "r":
        empty = apply(P.full, shape=(0,), value=0.0, dtype=A.dtype)
        return return_types.linalg_qr(empty, apply(P.qr_r, A, mode="reduced"))
    return return_types.linalg_qr(apply(P.qr_q, A, mode=mode), apply(P.qr_r, A, mode=mode))


def householder_product(A, tau):
    """Q = H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, v_i = (0.., 1, A[i+1:, i]) (LAPACK's
    orgqr): a product of rank-one updates, so its gradient is the primitives' VJPs."""
    m, n, k = A.shape[-2], A.shape[-1], tau.shape[-1]
    if not m >= n >= k:
        raise op_error(ShapeError(f"householder_product: expects input.shape[-2] >= "
                                  f"input.shape[-1] >= tau.shape[-1], got input {fmt(A.shape)}, "
                                  f"tau {fmt(tau.shape)}"), "householder_product")
    q = eye(m, n, dtype=A.dtype, device=A.device).expand(*A.shape[:-2], m, n)
    below = A.tril(-1) + eye(m, n, dtype=A.dtype, device=A.device)
    for i in reversed(range(k)):
        v = below[..., :, i:i + 1]                      # (..., m, 1): unit at i, zeros above
        t = tau[..., i:i + 1].unsqueeze(-1)
        q = q - (t * v) @ (v.mT @ q)
    return q


def svd(A, full_matrices=True, *, driver=None):
    return return_types.linalg_svd(apply(P.svd_u, A, full_matrices=bool(full_matrices)),
                      apply(P.svd_s, A, full_matrices=False),
                      apply(P.svd_vh, A, full_matrices=bool(full_matrices)))


def svdvals(A, *, driver=None):
    return apply(P.svd_s, A, full_matrices=False)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric A (read as its symmetric part)."""
    _uplo(UPLO, "eigh")
    return return_types.linalg_eigh(apply(P.eigh_values, A), apply(P.eigh_vectors, A))


def eigvalsh(A, UPLO="L"):
    _uplo(UPLO, "eigvalsh")
    return apply(P.eigh_values, A)


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.{op}: Expected UPLO argument to be 'L' or 'U', but got "
                           f"{UPLO}")


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """V diag(1/s) U^T over the singular values above max(atol, rtol * s_max) (PyTorch's
    default rtol: the dtype's eps times max(m, n))."""
    U, s, Vh = svd(A, full_matrices=False)
    keep = s > _cutoff(A, s, atol, rtol)
    s_inv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return (Vh.mT * s_inv.unsqueeze(-2)) @ U.mT


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    s = svdvals(A)
    return R.sum(s > _cutoff(A, s, atol, rtol), -1)


def _cutoff(A, s, atol, rtol):
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else (
            float(np.finfo(A.dtype.np).eps) * max(A.shape[-2:]))
    top = R.amax(s, -1, keepdim=True) * rtol
    return top if atol is None else apply(P.maximum, top, float(atol))


# -- the older torch.* spellings (torch.cholesky, torch.qr, torch.svd) and their methods -------
def cholesky_legacy(input, upper=False):
    return cholesky(input, upper=upper)


def slogdet_legacy(input):
    """torch.slogdet: linalg.slogdet's pair, under its older type name."""
    return return_types.slogdet(*slogdet(input))


def qr_legacy(input, some=True):
    return return_types.qr(*qr(input, mode="reduced" if some else "complete"))




def svd_legacy(input, some=True, compute_uv=True):
    """torch.svd: V rather than Vh, and the reduced factors unless some=False."""
    U, S, Vh = svd(input, full_matrices=not some)
    return return_types.svd(U, S, Vh.mT)


def pinverse(input, rcond=1e-15):
    """torch.pinverse: singular values at most rcond times the largest count as zero."""
    return pinv(input, rtol=rcond)


# -- LU: P A = L U by partial pivoting (LAPACK's getrf; primitives lu_factor and lu_pivots) ---
def lu_factor(A, *, pivot=True):
    _lu_pivoting("linalg.lu_factor", pivot)
    return return_types.linalg_lu_factor(apply(P.lu_factor, A, check_errors=True),
                                         apply(P.lu_pivots, A, check_errors=True))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """LU, pivots and info: 0, or i where U[i-1, i-1] is the first zero pivot (getrf's info)."""
    _lu_pivoting("linalg.lu_factor_ex", pivot)
    LU = apply(P.lu_factor, A, check_errors=bool(check_errors))
    pivots = apply(P.lu_pivots, A, check_errors=bool(check_errors))
    zero = LU.diagonal(0, -2, -1)[..., :pivots.shape[-1]] == 0
    info = where(zero.any(-1), zero.int().argmax(-1) + 1, 0).to(int32)
    return return_types.linalg_lu_factor_ex(LU, pivots, info)


def lu(A, *, pivot=True):
    _lu_pivoting("linalg.lu", pivot)
    return return_types.linalg_lu(*lu_unpack(apply(P.lu_factor, A, check_errors=False),
                                             apply(P.lu_pivots, A, check_errors=False)))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """P (m x m), L (m x k, unit lower) and U (k x n) of a packed LU; what is not unpacked is
    an empty tensor, as PyTorch returns."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = zeros(0, dtype=LU_data.dtype)
    L = U = empty
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype)
        U = LU_data[..., :k, :].triu()
    perm = lu_permutation(LU_pivots, m, LU_data.dtype) if unpack_pivots else empty
    return return_types.lu_unpack(perm, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (X A = B when not left; A^T for adjoint) for A = P L U."""
    perm, L, U = lu_unpack(LU, pivots)
    A = perm @ L @ U
    A = A.mT if adjoint else A
    return solve(A, B, left=left)


def lu_legacy(A, pivot=True, get_infos=False):
    """torch.lu / Tensor.lu: linalg.lu_factor_ex's results, info only with get_infos."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                  "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.",
                  UserWarning, stacklevel=2)
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve_legacy(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots): linalg.lu_solve with B first."""
    return lu_solve(LU_data, LU_pivots, b)


def _lu_pivoting(op, pivot):
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")


# -- products, triangular and checked solves, tensor inverses --------------------------------
def multi_dot(tensors):
    """A chain of matrix products; a 1-D first (last) operand is a row (column) vector and its
    dimension is dropped from the result, as PyTorch's."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, n - 1) else (2,)
        if t.ndim not in allowed:
            where = "first" if i == 0 else ("last" if i == n - 1 else f"{i}th")
            raise op_error(ShapeError(f"multi_dot(): the {where} tensor must be "
                                      f"{' or '.join(f'{d}D' for d in allowed)} but got "
                                      f"{t.ndim}D"), "linalg.multi_dot")
    mats = list(tensors)
    row, col = mats[0].ndim == 1, mats[-1].ndim == 1
    mats[0] = mats[0].unsqueeze(0) if row else mats[0]
    mats[-1] = mats[-1].unsqueeze(-1) if col else mats[-1]
    out = mats[0]
    for i, m in enumerate(mats[1:], 1):
        if out.shape[-1] != m.shape[0]:
            raise op_error(ShapeError(
                f"multi_dot(): tensors {i - 1} and {i} with shapes "
                f"{list(tensors[i - 1].shape)} and {list(tensors[i].shape)} cannot be "
                "multiplied"), "linalg.multi_dot")
        out = matmul(out, m)
    out = out.squeeze(0) if row else out
    return out.squeeze(-1) if col else out


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (X A = B when not left), reading only A's upper (or lower) triangle and,
    with unitriangular, taking its diagonal as ones: solve() of that triangular matrix, so the
    gradient reaches only the triangle read, as PyTorch's."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise op_error(ShapeError(f"linalg.solve_triangular: A must be batches of square "
                                  f"matrices, got {fmt(A.shape)}"), "linalg.solve_triangular")
    if B.ndim < 2:
        raise op_error(ShapeError(f"linalg.solve_triangular: The input tensor B must have at "
                                  f"least 2 dimensions, got {fmt(B.shape)}"),
                       "linalg.solve_triangular")
    k = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != k:
        raise op_error(ShapeError(f"linalg.solve_triangular: Incompatible shapes of A and B "
                                  f"for the equation {'AX = B' if left else 'XA = B'} "
                                  f"({fmt(A.shape)} and {fmt(B.shape)})"),
                       "linalg.solve_triangular")
    T = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        T = T + eye(k, dtype=A.dtype, device=A.device)
    return solve(T, B, left=left)


def vander(x, *, N=None):
    """x's powers 0 .. N-1 along a new last dimension (N: x's last size), as running products,
    so the gradient at x = 0 is exact."""
    if x.ndim < 1:
        raise op_error(ShapeError("linalg.vander: x must have at least one dimension"),
                       "linalg.vander")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    x = x.unsqueeze(-1)
    first = ones(tuple(x.shape), dtype=x.dtype, device=x.device)
    return cumprod(cat([first, x.expand(*x.shape[:-1], n - 1)], -1), -1)


def cond(A, p=None):
    """The condition number: largest over smallest singular value (p None or 2; -2 the
    inverse), else matrix_norm(A, p) * matrix_norm(inv(A), p)."""
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = R.amax(s, -1), R.amin(s, -1)
        return big / small if p != -2 else small / big
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise op_error(ShapeError(f"linalg.cond(ord={p}): A must be batches of square "
                                  f"matrices, got {fmt(A.shape)}"), "linalg.cond")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def _info(A):
    """LAPACK getrf's info per matrix: 0, or i where U[i-1, i-1] is the first zero pivot."""
    return lu_factor_ex(A).info


def _invertible(A, info):
    """A with every singular matrix (info > 0) replaced by the identity: its results are
    unspecified in PyTorch (here the identity's), and the others' are unchanged."""
    bad = (info != 0).unsqueeze(-1).unsqueeze(-1)
    return where(bad, eye(A.shape[-1], dtype=A.dtype, device=A.device), A)


def inv_ex(A, *, check_errors=False):
    """(inverse, info) without raising for a singular matrix unless check_errors."""
    if check_errors:
        out = inv(A)
        return return_types.linalg_inv_ex(out, zeros(tuple(A.shape[:-2]), dtype=int32))
    info = _info(A)
    return return_types.linalg_inv_ex(inv(_invertible(A, info)), info)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(solution, info) without raising for a singular A unless check_errors."""
    if check_errors:
        out = solve(A, B, left=left)
        return return_types.linalg_solve_ex(out, zeros(tuple(A.shape[:-2]), dtype=int32))
    info = _info(A)
    return return_types.linalg_solve_ex(solve(_invertible(A, info), B, left=left), info)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.diagonal with the last two dimensions as the default."""
    return _diagonal(A, offset, dim1, dim2)


def tensorinv(A, ind=2):
    """The inverse of A read as a matrix whose rows are A's first ind dimensions: shape
    A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise ValueError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(cols):
        raise op_error(ShapeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {math.prod(cols)} != {math.prod(rows)}"),
            "linalg.tensorinv")
    return inv(A.reshape(math.prod(rows), math.prod(cols))).reshape(cols + rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's trailing dimensions are X's shape."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    shape = tuple(A.shape[B.ndim:])
    if tuple(A.shape[:B.ndim]) != tuple(B.shape) or math.prod(shape) != B.numel():
        raise op_error(ShapeError(
            f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {math.prod(shape)} != {B.numel()} "
            f"(A {fmt(A.shape)}, B {fmt(B.shape)})"), "linalg.tensorsolve")
    return solve(A.reshape(B.numel(), B.numel()), B.reshape(-1)).reshape(shape)


# -- torch-level Cholesky and triangular solves (torch.cholesky_solve, ...) -------------------
def _from_factor(L, upper):
    return L.mT @ L if upper else L @ L.mT


def cholesky_inverse(L, upper=False):
    """inv(A) for A = L L^T (U^T U with upper): the inverse of the matrix the factor makes."""
    return inv(_from_factor(L, upper))


def cholesky_solve(B, L, upper=False):
    """X with A X = B for A = L L^T (U^T U with upper)."""
    return solve(_from_factor(L, upper), B)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve (deprecated in PyTorch): (solution of op(A) X = b, A's copy)."""
    warnings.warn("torch.triangular_solve is deprecated in favor of "
                  "torch.linalg.solve_triangular and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)
    T = A.mT if transpose else A
    x = solve_triangular(T, b, upper=upper != transpose, unitriangular=unitriangular)
    return return_types.triangular_solve(x, A.clone())
