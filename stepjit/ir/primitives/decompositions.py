"""Matrix decompositions: Cholesky, QR, LU, the symmetric eigendecomposition and the SVD.

Each is NumPy's LAPACK call (lowering "impl": compiled programs run the same call, on CUDA a
host round trip); LU, which NumPy lacks, is getrf's elimination written in NumPy below. A
decomposition has several results, and a primitive has one, so each result is its own primitive
over the same input (`qr_q`, `qr_r`): the front end applies the ones it returns, and the IR's
CSE does not merge them (they differ in name). Their gradient formulas are linear in the
cotangents, so the gradient of a function of several results is the sum of each result's rule
taken with the others' cotangents zero; a rule that needs the other results recomputes them
from the input (`bind(qr_r, x)`), since the rule of one result cannot read another's value.

Symmetric inputs (cholesky, eigh) are symmetrized, (A + A^T) / 2, before the factorization:
exact for a symmetric A, and it makes the function's gradient the symmetric one PyTorch
returns (PyTorch reads one triangle; its gradient is the symmetric part, which is what a
finite difference of the symmetrized function gives).

Formulas (real matrices; M^T is the transpose, inv the inverse):
  cholesky   A = L L^T:  gA = sym(L^-T phi(L^T gL) L^-1), phi: lower triangle, diagonal halved
  eigh       A = Q diag(w) Q^T:  gA = sym(Q (diag(gw) + F o (Q^T gQ)) Q^T), F_ij = 1/(w_j - w_i)
  qr         (m >= n, reduced)  gA = Q (gR + tril(Q^T gQ - gQ^T Q + R gR^T - gR R^T) R^-T)
                                     + (gQ - Q Q^T gQ) R^-T
  svd        A = U diag(S) Vh:  gA = U [(skew(U^T gU) / E) S + S (skew(V^T gV) / E) + diag(gS)] Vh
                                     + (I - U U^T) gU S^-1 Vh + U S^-1 gV^T (I - V V^T)
             with E_jk = S_k^2 - S_j^2, skew(X) = X - X^T, V = Vh^T, gV = gVh^T
Repeated eigenvalues or singular values make F and 1/E infinite, as in PyTorch (whose
documentation says the gradient is then undefined).
"""
from __future__ import annotations

import numpy as np

from ...errors import LinAlgError
from ..registry import Primitive, bind, register
from ..types import int32, int64
from . import shapes as S
from .indexing import arange, full


def _matrices(op, x, square=False):
    if x.ndim < 2:
        raise S.ShapeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions "
                           f"(got shape {S.fmt(x.shape)})")
    if square and x.shape[-1] != x.shape[-2]:
        raise S.ShapeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices (shape {S.fmt(x.shape)})")
    if x.dtype.category != S.FLOAT:
        raise S.DTypeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{x.dtype.name}")


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def _symmetric(g):
    return (g + g.mT) * 0.5


# -- Cholesky ----------------------------------------------------------------------------------
def _cholesky_rule(x):
    _matrices("cholesky", x, square=True)
    return S.AVal(x.shape, x.dtype)


def _cholesky_impl(x):
    a = _sym(x)
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"linalg.cholesky: The factorization could not be completed because "
                           f"the input is not positive-definite (the leading minor of order "
                           f"{_failing_minor(a)} is not positive-definite).") from None


def _failing_minor(a):
    """The order of the first leading minor that is not positive-definite (PyTorch names it)."""
    a = a.reshape((-1,) + a.shape[-2:])
    for k in range(1, a.shape[-1] + 1):
        for m in a:
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return k
    return a.shape[-1]


def _phi(x):
    """The lower triangle of x with its diagonal halved."""
    return x.tril() - 0.5 * x.diagonal(0, -2, -1).diag_embed()


def _cholesky_vjp(g, out):
    l_inv = out.inverse()
    return _symmetric(l_inv.mT @ _phi(out.mT @ g.tril()) @ l_inv)


def _cholesky_jvp(t, out):
    """dL = L phi(L^-1 sym(dA) L^-T) (the input is symmetrized before factoring)."""
    linv = out.inverse()
    x = linv @ ((t + t.mT) * 0.5) @ linv.mT
    return out @ (x.tril() - 0.5 * x.diagonal(0, -2, -1).diag_embed())


cholesky = register(Primitive(
    "cholesky", "matmul", _cholesky_impl, _cholesky_rule, inputs=("x",),
    vjp=(_cholesky_vjp,), jvp=(_cholesky_jvp,), grad_name="LinalgCholeskyExBackward0",
    lowering="impl",
    accumulates=True))


# -- symmetric eigendecomposition -------------------------------------------------------------
def _eigh_rule(part):
    def rule(x):
        _matrices("eigh", x, square=True)
        return S.AVal(x.shape[:-1] if part == "values" else x.shape, x.dtype)
    return rule


def _eigh_values_vjp(g, x):
    q = bind(eigh_vectors, x)
    return _symmetric((q * g.unsqueeze(-2)) @ q.mT)


def _eigh_vectors_vjp(g, x, out):
    w = bind(eigh_values, x)
    gap = w.unsqueeze(-2) - w.unsqueeze(-1)            # w_j - w_i
    n = w.shape[-1]
    off = 1.0 - bind(full, shape=(n,), value=1.0, dtype=w.dtype).diag_embed()
    f = off / (gap + (1.0 - off))                      # 1 / (w_j - w_i), 0 on the diagonal
    return _symmetric(out @ (f * (out.mT @ g)) @ out.mT)


eigh_values = register(Primitive(
    "eigh_values", "matmul", lambda x: np.linalg.eigvalsh(_sym(x)), _eigh_rule("values"),
    inputs=("x",), vjp=(_eigh_values_vjp,), grad_name="LinalgEighBackward0", lowering="impl",
    accumulates=True))

eigh_vectors = register(Primitive(
    "eigh_vectors", "matmul", lambda x: np.linalg.eigh(_sym(x))[1], _eigh_rule("vectors"),
    inputs=("x",), vjp=(_eigh_vectors_vjp,), grad_name="LinalgEighBackward0",
    lowering="impl", accumulates=True))


# -- QR ----------------------------------------------------------------------------------------
def _qr_rule(part):
    def rule(x, mode):
        _matrices("qr", x)
        if mode not in ("reduced", "complete"):
            raise S.ShapeError(f"qr received unrecognized mode '{mode}' but expected one of "
                               "'reduced' (default), 'r', or 'complete'")
        m, n = x.shape[-2:]
        k = m if mode == "complete" else min(m, n)
        shape = (m, k) if part == "q" else (k, n)
        return S.AVal(x.shape[:-2] + shape, x.dtype)
    return rule


def _qr_grad(x, q, r, gq, gr):
    m, n = x.shape[-2:]
    if m < n or q.shape[-1] != n:
        raise NotImplementedError(
            f"linalg.qr: the gradient is implemented for matrices with at least as many rows "
            f"as columns (reduced mode, or a square matrix); got {m} by {n}")
    r_inv_t = r.inverse().mT
    inner = 0.0
    outer = 0.0
    if gq is not None:
        qgq = q.mT @ gq
        inner = qgq - qgq.mT
        outer = (gq - q @ qgq) @ r_inv_t
    if gr is not None:
        rgr = r @ gr.mT
        inner = inner + (rgr - rgr.mT)
    lower = inner.tril() @ r_inv_t
    return q @ (lower + gr if gr is not None else lower) + outer


qr_q = register(Primitive(
    "qr_q", "matmul", lambda x, mode: np.linalg.qr(x, mode=mode)[0], _qr_rule("q"),
    inputs=("x",), attrs=("mode",),
    vjp=(lambda g, x, out, mode: _qr_grad(x, out, out.mT @ x, g, None),),
    grad_name="LinalgQrBackward0", lowering="impl", accumulates=True))

qr_r = register(Primitive(
    "qr_r", "matmul", lambda x, mode: np.linalg.qr(x, mode=mode)[1], _qr_rule("r"),
    inputs=("x",), attrs=("mode",),
    vjp=(lambda g, x, out, mode: _qr_grad(x, bind(qr_q, x, mode=mode), out, None, g),),
    grad_name="LinalgQrBackward0", lowering="impl", accumulates=True))


# -- SVD ---------------------------------------------------------------------------------------
def _svd_rule(part):
    def rule(x, full_matrices):
        _matrices("svd", x)
        m, n = x.shape[-2:]
        k = min(m, n)
        shape = {"u": (m, m if full_matrices else k), "s": (k,),
                 "vh": (n if full_matrices else k, n)}[part]
        return S.AVal(x.shape[:-2] + shape, x.dtype)
    return rule


def _svd_impl(part):
    index = {"u": 0, "s": 1, "vh": 2}[part]
    if part == "s":
        return lambda x, full_matrices: np.linalg.svd(x, compute_uv=False)
    return lambda x, full_matrices: np.linalg.svd(x, full_matrices=full_matrices)[index]


def _svd_grad(x, full_matrices, gu=None, gs=None, gvh=None):
    if full_matrices and (gu is not None or gvh is not None) and x.shape[-1] != x.shape[-2]:
        raise NotImplementedError(
            "linalg.svd: the gradient of U or Vh with full_matrices=True is defined for square "
            "matrices only (as in PyTorch): use full_matrices=False")
    u = bind(svd_u, x, full_matrices=False)
    s = bind(svd_s, x, full_matrices=False)
    vh = bind(svd_vh, x, full_matrices=False)
    if gs is not None:
        return (u * gs.unsqueeze(-2)) @ vh
    k = s.shape[-1]
    eye = bind(full, shape=(k,), value=1.0, dtype=s.dtype).diag_embed()
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye       # S_k^2 - S_j^2, 1 on the diagonal
    if gu is not None:
        gu = gu[..., :k]
        utg = u.mT @ gu
        inner = ((utg - utg.mT) / e) * s.unsqueeze(-2)
        return u @ inner @ vh + ((gu - u @ utg) / s.unsqueeze(-2)) @ vh
    gv = gvh[..., :k, :].mT
    v = vh.mT
    vtg = v.mT @ gv
    inner = s.unsqueeze(-1) * ((vtg - vtg.mT) / e)
    return u @ inner @ vh + u @ ((gv - v @ vtg) / s.unsqueeze(-2)).mT


svd_u = register(Primitive(
    "svd_u", "matmul", _svd_impl("u"), _svd_rule("u"), inputs=("x",), attrs=("full_matrices",),
    vjp=(lambda g, x, full_matrices: _svd_grad(x, full_matrices, gu=g),),
    grad_name="LinalgSvdBackward0", lowering="impl", accumulates=True))

svd_s = register(Primitive(
    "svd_s", "matmul", _svd_impl("s"), _svd_rule("s"), inputs=("x",), attrs=("full_matrices",),
    vjp=(lambda g, x, full_matrices: _svd_grad(x, full_matrices, gs=g),),
    grad_name="LinalgSvdBackward0", lowering="impl", accumulates=True))

svd_vh = register(Primitive(
    "svd_vh", "matmul", _svd_impl("vh"), _svd_rule("vh"), inputs=("x",),
    attrs=("full_matrices",),
    vjp=(lambda g, x, full_matrices: _svd_grad(x, full_matrices, gvh=g),),
    grad_name="LinalgSvdBackward0", lowering="impl", accumulates=True))


# -- LU with partial pivoting (LAPACK's getrf) -------------------------------------------------
# NumPy has no LU, so the impl is getrf's right-looking elimination written out on the batch:
# at column j the row with the largest |entry| (the first, on ties, as LAPACK's i?amax) is
# swapped up, the multipliers below the pivot are stored where they eliminate, and the trailing
# block is updated. An exact zero pivot leaves its column unscaled, as getrf does (info > 0).
# Pivots are LAPACK's: 1-based, row j swapped with row pivots[j] - 1, in order.
def _lu(x, check_errors=False):
    a = np.array(x, dtype=x.dtype, copy=True)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    a = a.reshape((-1, m, n))
    rows = np.arange(a.shape[0])
    pivots = np.zeros((a.shape[0], k), dtype=np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(a[:, j:, j]), axis=-1)
        pivots[:, j] = p + 1
        top = a[rows, j].copy()
        a[rows, j] = a[rows, p]
        a[rows, p] = top
        pivot = a[:, j, j]
        nonzero = pivot != 0
        a[:, j + 1:, j] = np.where(nonzero[:, None],
                                   a[:, j + 1:, j] / np.where(nonzero, pivot, 1)[:, None],
                                   a[:, j + 1:, j])
        a[:, j + 1:, j + 1:] -= a[:, j + 1:, j:j + 1] * a[:, j:j + 1, j + 1:]
    if check_errors:
        _check_pivots(a, k, batch)
    return a.reshape(batch + (m, n)), pivots.reshape(batch + (k,))


def _check_pivots(a, k, batch):
    """linalg.lu_factor's refusal of a singular U (lu_factor_ex reports it as info instead)."""
    zero = np.diagonal(a[:, :k, :k], axis1=-2, axis2=-1) == 0
    if zero.any():
        b = int(np.argmax(zero.any(-1)))
        i = int(np.argmax(zero[b])) + 1
        where = f" (Batch element {b})" if batch else ""
        raise RuntimeError(
            f"torch.linalg.lu_factor{where}: U[{i},{i}] is zero and using it on lu_solve would "
            "result in a division by zero. If you still want to perform the factorization, "
            "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def _lu_rule(part):
    def rule(x, check_errors=False):
        _matrices("lu_factor", x)
        if part == "lu":
            return S.AVal(x.shape, x.dtype)
        return S.AVal(x.shape[:-2] + (min(x.shape[-2:]),), int32)
    return rule


def _lu_grad(g, x, lu):
    """A = P L U, LU = L - I + U:  gA = P L^-T ((L^T gL).tril(-1) + (gU U^T).triu()) U^-T with
    gL = g.tril(-1), gU = g.triu() (square A; PyTorch's linalg_lu_backward)."""
    m, n = x.shape[-2:]
    if m != n:
        raise NotImplementedError(
            f"linalg.lu_factor: the gradient is implemented for square matrices; got {m} by {n}")
    eye = bind(full, shape=(n,), value=1.0, dtype=x.dtype).diag_embed()
    low = lu.tril(-1) + eye
    up = lu.triu()
    inner = (low.mT @ g.tril(-1)).tril(-1) + (g.triu() @ up.mT).triu()
    perm = lu_permutation(bind(lu_pivots, x, check_errors=False), n, x.dtype)
    return perm @ low.inverse().mT @ inner @ up.inverse().mT


def lu_permutation(pivots, m, dtype):
    """P with A = P L U from getrf's 1-based row swaps: applying the swaps in order to
    0..m-1 gives perm, row i of L U is row perm[i] of A, so P[perm[i], i] = 1."""
    rows = bind(arange, start=0, stop=m, step=1, dtype=int64)
    perm = rows.expand(*pivots.shape[:-1], m)
    swaps = pivots.long() - 1
    for i in range(pivots.shape[-1]):
        j = swaps[..., i:i + 1]
        there = perm.gather(-1, j)
        perm = perm.scatter(-1, j, perm[..., i:i + 1]).scatter(-1, j * 0 + i, there)
    return (rows.unsqueeze(-1) == perm.unsqueeze(-2)).to(dtype)


lu_factor = register(Primitive(
    "lu_factor", "matmul", lambda x, check_errors: _lu(x, check_errors)[0], _lu_rule("lu"),
    inputs=("x",), attrs=("check_errors",), vjp=(lambda g, x, out: _lu_grad(g, x, out),),
    grad_name="LinalgLuFactorExBackward0", lowering="impl", accumulates=True))

lu_pivots = register(Primitive(
    "lu_pivots", "matmul", lambda x, check_errors: _lu(x, check_errors)[1], _lu_rule("pivots"),
    inputs=("x",), attrs=("check_errors",), lowering="impl"))
