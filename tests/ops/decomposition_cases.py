"""Matrix decompositions (torch.linalg cholesky, qr, svd, svdvals, eigh, eigvalsh, pinv,
matrix_rank, spectral norms), solve/slogdet and lstsq, checked against PyTorch: one table,
recorded by tests/fixtures/record_decompositions.py (float64 values and gradients).

Eigenvectors and singular vectors are defined up to sign, so the cases use them through
sign-free expressions (Q * Q, U diag(s) Vh, |u|); symmetric inputs are built inside the case
(A = X X^T + n I), so finite differences see the same function PyTorch differentiates.
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(2718)


def r(*shape):
    return RNG.standard_normal(shape)


def spd(T, x):
    """A symmetric positive-definite matrix (batch) from any square x."""
    n = x.shape[-1]
    return x @ x.mT + n * T.eye(n, dtype=x.dtype)


def sym(T, x):
    return x + x.mT


CASES = [
    Case("cholesky", lambda T, x: T.linalg.cholesky(spd(T, x)), r(4, 4), compiled=True),
    Case("cholesky_batched_upper", lambda T, x: T.linalg.cholesky(spd(T, x), upper=True),
         r(2, 3, 3)),
    Case("cholesky_ex", lambda T, x: T.linalg.cholesky_ex(spd(T, x)).L, r(3, 3)),
    Case("cholesky_legacy", lambda T, x: (T.cholesky(spd(T, x)), spd(T, x).cholesky()),
         r(3, 3)),
    Case("qr_reduced_tall", lambda T, x: T.linalg.qr(x), r(5, 3), compiled=True),
    Case("qr_square", lambda T, x: T.linalg.qr(x), r(4, 4)),
    Case("qr_batched", lambda T, x: tuple(T.linalg.qr(x)), r(2, 4, 3)),
    Case("qr_complete_values", lambda T, x: T.linalg.qr(x, mode="complete"), r(4, 2), grad=()),
    Case("qr_r_mode", lambda T, x: T.linalg.qr(x, mode="r")[1], r(4, 3), grad=()),
    Case("qr_wide_values", lambda T, x: T.linalg.qr(x), r(2, 4), grad=()),
    Case("svdvals", lambda T, x: T.linalg.svdvals(x), r(4, 3), compiled=True),
    Case("svdvals_wide_batched", lambda T, x: T.linalg.svdvals(x), r(2, 2, 4)),
    Case("svd_reconstruct", lambda T, x: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh)(
        *T.linalg.svd(x, full_matrices=False)), r(4, 3)),
    Case("svd_vectors_sign_free", lambda T, x: (lambda u, s, vh: (u * u, vh * vh, s))(
        *T.linalg.svd(x, full_matrices=False)), r(3, 5)),
    Case("svd_outer_products", lambda T, x: (lambda u, s, vh: u[..., :, :1] * vh[..., :1, :])(
        *T.linalg.svd(x, full_matrices=False)), r(2, 4, 4)),
    Case("svd_full_values", lambda T, x: (lambda u, s, vh: (u.abs(), s, vh.abs()))(
        *T.linalg.svd(x)), r(4, 2), grad=()),
    Case("eigh_values", lambda T, x: T.linalg.eigh(sym(T, x)).eigenvalues, r(4, 4),
         compiled=True),
    Case("eigvalsh_batched", lambda T, x: T.linalg.eigvalsh(sym(T, x)), r(2, 3, 3)),
    Case("eigh_vectors_sign_free", lambda T, x: (lambda w, q: (w, q * q))(
        *T.linalg.eigh(sym(T, x))), r(4, 4)),
    Case("eigh_upper", lambda T, x: (lambda w, q: (q * w.unsqueeze(-2)) @ q.mT)(
        *T.linalg.eigh(sym(T, x), UPLO="U")), r(3, 3)),
    Case("pinv_tall", lambda T, x: T.linalg.pinv(x), r(5, 3)),
    Case("matrix_rank", lambda T, x: (T.linalg.matrix_rank(x), T.linalg.matrix_rank(x @ x.mT)),
         r(4, 2), grad=()),
    Case("spectral_and_nuclear_norms", lambda T, x: (T.linalg.matrix_norm(x, 2),
                                                     T.linalg.matrix_norm(x, -2),
                                                     T.linalg.matrix_norm(x, "nuc"),
                                                     T.linalg.norm(x, 2)), r(3, 4)),
    Case("solve", lambda T, a, b: T.linalg.solve(spd(T, a), b), r(3, 3), r(3, 2)),
    Case("slogdet", lambda T, a: tuple(T.linalg.slogdet(a + 3 * T.eye(3, dtype=a.dtype))),
         r(3, 3)),
    Case("gaussian_log_density", lambda T, x, v: (lambda L: (
        T.linalg.solve(L, v.unsqueeze(-1)).pow(2).sum()
        + 2 * L.diagonal(0, -2, -1).log().sum()))(T.linalg.cholesky(spd(T, x))),
        r(3, 3), r(3)),
    # least squares: pinv(A) @ B, residuals/rank/singular values per driver
    Case("lstsq_tall", lambda T, a, b: T.linalg.lstsq(a, b).solution, r(5, 3), r(5, 2),
         compiled=True),
    Case("lstsq_gelsd", lambda T, a, b: tuple(T.linalg.lstsq(a, b, driver="gelsd"))[:3],
         r(5, 3), r(5, 2)),
    Case("lstsq_gels_vector", lambda T, a, b: (lambda x: (x.solution, x.residuals))(
        T.linalg.lstsq(a, b, driver="gels")), r(4, 2), r(4)),
    Case("lstsq_wide_min_norm", lambda T, a, b: tuple(T.linalg.lstsq(a, b, driver="gelss"))[:3],
         r(2, 4), r(2, 3)),
    Case("lstsq_batched_broadcast", lambda T, a, b: tuple(T.linalg.lstsq(a, b)), r(2, 4, 3),
         r(1, 4, 2)),
    Case("lstsq_rank_deficient", lambda T, a, b: tuple(T.linalg.lstsq(
        a[:, :1] * T.ones(1, 3, dtype=a.dtype), b, driver="gelsd")), r(4, 3), r(4, 2), grad=()),
    Case("lstsq_singular_values", lambda T, a, b: tuple(T.linalg.lstsq(a, b, driver="gelss")),
         r(2, 4), r(2, 3), grad=()),
    # (appended: the RNG stream of the cases above is unchanged)
    Case("matrix_exp", lambda T, x: (T.linalg.matrix_exp(x * 0.1), T.matrix_exp(x * 2)),
         r(3, 3), tol=1e-9),
    Case("matrix_exp_batched_large", lambda T, x: T.linalg.matrix_exp(x * 3), r(2, 4, 4),
         tol=1e-9),
    # LU with partial pivoting: packed factors, LAPACK's 1-based int32 pivots, P L U (P carries
    # no gradient, so the gradient cases leave it out: finite differences would count it)
    Case("lu_factor", lambda T, x: tuple(T.linalg.lu_factor(x)), r(4, 4), compiled=True),
    Case("lu_batched", lambda T, x: tuple(T.linalg.lu(x))[1:], r(2, 3, 3)),
    Case("lu_permutations", lambda T, a, b: (T.linalg.lu(a).P, T.linalg.lu(b).P,
                                             T.lu_unpack(*T.linalg.lu_factor(a),
                                                         unpack_data=False)),
         r(2, 4, 4), r(3, 5), grad=()),
    Case("lu_tall_and_wide", lambda T, a, b: (tuple(T.linalg.lu(a)), tuple(T.linalg.lu(b))),
         r(5, 3), r(2, 3, 5), grad=()),
    Case("lu_unpack_of_tensor_lu", lambda T, x: tuple(T.lu_unpack(*x.lu()))[1:], r(3, 3)),
    Case("lu_unpack_data_only", lambda T, x: tuple(T.lu_unpack(*T.linalg.lu_factor(x),
                                                               unpack_pivots=False)), r(4, 4)),
    Case("lu_factor_ex_singular", lambda T, x: tuple(T.linalg.lu_factor_ex(x)),
         np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]), grad=()),
    Case("lu_solve", lambda T, a, b: (T.linalg.lu_solve(*T.linalg.lu_factor(a), b),
                                      T.linalg.lu_solve(*T.linalg.lu_factor(a), b.mT,
                                                        left=False),
                                      T.linalg.lu_solve(*T.linalg.lu_factor(a), b,
                                                        adjoint=True)), r(3, 3), r(3, 2)),
]
