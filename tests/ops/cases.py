"""Tensor functions checked against PyTorch: one table, recorded by tests/fixtures/record_ops.py.

Each case is written once against a torch-shaped module T (see tests/fixtures/oracle.py).
Inputs are float64 with distinct values (no ties for sorts), so values and gradients
match PyTorch to ~1e-10.
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(18)


def r(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def idx(hi, *shape):
    return RNG.integers(0, hi, shape).astype(np.int64)


X34 = r(3, 4)
X234 = r(2, 3, 4)
SQ = r(4, 4)
WITH_ZERO = np.array([[1.5, -2.0, 0.0, 0.5], [0.7, 1.2, -0.3, 2.0], [0.0, 0.0, 1.1, -0.9]])
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, -2.5, 0.0])

CASES = [
    # -- elementwise math ------------------------------------------------------------------
    Case("log2", lambda T, x: T.log2(x), pos(3, 4), compiled=True),
    Case("log10", lambda T, x: x.log10(), pos(3, 4)),
    Case("expm1", lambda T, x: T.expm1(x), r(3, 4), compiled=True),
    Case("erf", lambda T, x: T.erf(x), r(3, 4), compiled=True),
    Case("erfc", lambda T, x: T.erfc(x), r(5)),
    Case("clamp_min", lambda T, x: T.clamp_min(x, 0.1), X34),
    Case("clamp_max", lambda T, x: x.clamp_max(-0.2), X34),
    Case("floor_divide_int", lambda T, a, b: (a // b, T.floor_divide(a, 3), a // 2.5),
         np.array([7, -7, 5, -5, 0]), np.array([2, 2, -3, -3, 4])),
    Case("remainder_fmod", lambda T, a, b: (a % b, T.remainder(a, 3), T.fmod(a, b), a.fmod(3)),
         np.array([7, -7, 5, -5, 0]), np.array([2, 2, -3, -3, 4])),
    Case("remainder_float", lambda T, x: (x % 0.75, T.fmod(x, 0.75)), r(6), grad=()),
    Case("logical_xor", lambda T, a, b: T.logical_xor(a > 0, b), r(6), idx(2, 6), grad=()),
    Case("isnan_isinf_isfinite", lambda T, x: (T.isnan(x), T.isinf(x), x.isfinite(),
                                               T.isposinf(x), T.isneginf(x)), SPECIAL, grad=()),
    Case("nan_to_num", lambda T, x: T.nan_to_num(x), SPECIAL),
    Case("nan_to_num_values", lambda T, x: x.nan_to_num(nan=0.5, posinf=9.0, neginf=-9.0), SPECIAL),
    Case("isclose", lambda T, a, b: T.isclose(a, b, rtol=1e-3, atol=0.0, equal_nan=True),
         np.array([1.0, 1.0005, np.nan, np.inf, 2.0]),
         np.array([1.0001, 1.0, np.nan, np.inf, 2.1]), grad=()),
    # -- reductions -------------------------------------------------------------------------
    Case("prod_all", lambda T, x: T.prod(x), pos(3, 4), compiled=True),
    Case("prod_dim", lambda T, x: x.prod(1), WITH_ZERO),
    Case("prod_dim_keepdim", lambda T, x: x.prod(0, keepdim=True), WITH_ZERO),
    Case("prod_one_zero", lambda T, x: x.prod(), np.array([2.0, 0.0, 3.0])),
    Case("count_nonzero", lambda T, x: (T.count_nonzero(x), x.count_nonzero(1)), WITH_ZERO,
         grad=()),
    Case("sum_axis_keepdims", lambda T, x: x.sum(axis=1, keepdims=True), X34),
    Case("mean_axis", lambda T, x: T.mean(x, axis=0), X34),
    Case("argmax_axis", lambda T, x: x.argmax(axis=1), X34, grad=()),
    Case("max_axis", lambda T, x: x.max(axis=1, keepdims=True)[0], X34),
    Case("std_axis", lambda T, x: x.std(axis=1), X34),
    # -- scans and sorts ----------------------------------------------------------------------
    Case("cumsum", lambda T, x: T.cumsum(x, 1), X34, compiled=True),
    Case("cumsum_dim0_3d", lambda T, x: x.cumsum(dim=0), X234),
    Case("cumsum_int", lambda T, x: x.cumsum(0), idx(5, 6), grad=()),
    Case("cumprod", lambda T, x: T.cumprod(x, 1), WITH_ZERO, compiled=True),
    Case("cumprod_dim0", lambda T, x: x.cumprod(0), r(4, 3)),
    Case("sort", lambda T, x: T.sort(x, 1), X34),
    Case("sort_desc_dim0", lambda T, x: x.sort(dim=0, descending=True), X34),
    Case("argsort", lambda T, x: T.argsort(x, dim=-1, descending=True), X234, grad=()),
    Case("topk", lambda T, x: T.topk(x, 2), X34, compiled=True),
    Case("topk_smallest_dim0", lambda T, x: x.topk(2, dim=0, largest=False), X34),
    Case("kthvalue", lambda T, x: x.kthvalue(2, 1), X34),
    Case("unique", lambda T, x: T.unique(x, return_inverse=True, return_counts=True),
         idx(4, 3, 4), grad=()),
    Case("unique_float", lambda T, x: x.unique(), np.array([2.5, -1.0, 2.5, 0.0]), grad=()),
    Case("bincount", lambda T, x: T.bincount(x, minlength=6), idx(4, 9), grad=()),
    Case("bincount_weights", lambda T, x, w: T.bincount(x, weights=w), idx(4, 9), r(9),
         grad=()),   # (PyTorch has no derivative for bincount)
    # -- shape and layout -----------------------------------------------------------------------
    Case("roll", lambda T, x: T.roll(x, 1, 1), X34, compiled=True),
    Case("roll_multi", lambda T, x: x.roll((1, -2), (0, 2)), X234),
    Case("roll_flat", lambda T, x: T.roll(x, 5), X34),
    Case("tril", lambda T, x: T.tril(x), SQ, compiled=True),
    Case("triu_offset", lambda T, x: x.triu(1), X34),
    Case("tril_neg_batched", lambda T, x: x.tril(-1), X234),
    Case("repeat", lambda T, x: x.repeat(2, 1, 3), X34),
    Case("repeat_interleave", lambda T, x: T.repeat_interleave(x, 2, dim=1), X34),
    Case("repeat_interleave_flat", lambda T, x: x.repeat_interleave(3), r(2, 2)),
    Case("repeat_interleave_tensor", lambda T, x, n: T.repeat_interleave(x, n, dim=0), X34,
         np.array([1, 0, 3])),
    Case("repeat_interleave_counts", lambda T, n: T.repeat_interleave(n), np.array([2, 0, 1])),
    Case("tile", lambda T, x: T.tile(x, (2,)), X34),
    Case("movedim", lambda T, x: T.movedim(x, 0, -1), X234),
    Case("diagonal", lambda T, x: T.diagonal(x), SQ),
    Case("diagonal_offset_dims", lambda T, x: x.diagonal(1, 1, 2), X234),
    Case("diagonal_neg", lambda T, x: x.diagonal(-1), X34),
    Case("diag_vec", lambda T, v: T.diag(v), r(3)),
    Case("diag_vec_offset", lambda T, v: T.diag(v, -1), r(3)),
    Case("diag_mat", lambda T, x: x.diag(1), X34),
    Case("diag_embed", lambda T, x: T.diag_embed(x), r(2, 3)),
    Case("trace", lambda T, x: T.trace(x), X34),
    Case("meshgrid_ij", lambda T, a, b: T.meshgrid(a, b, indexing="ij"), r(3), r(2)),
    Case("meshgrid_xy", lambda T, a, b: T.meshgrid(a, b, indexing="xy"), r(3), r(2)),
    # -- scatter and index writes -------------------------------------------------------------
    Case("scatter_add", lambda T, x, i, s: T.scatter_add(x, 1, i, s), X34, idx(4, 3, 2),
         r(3, 2), compiled=True),
    Case("scatter_add_larger_src", lambda T, x, i, s: T.scatter_add(x, 1, i, s), X34,
         idx(4, 3, 2), r(3, 5), grad=(0,)),
    Case("scatter_src", lambda T, x, i, s: x.scatter(0, i, s), X34,
         np.array([[0, 1, 2, 0], [2, 0, 1, 1]]), r(2, 4)),
    Case("scatter_value", lambda T, x, i: x.scatter(1, i, 0.5), X34, np.array([[0], [3], [1]])),
    Case("scatter_inplace", lambda T, x, i, s: (x * 1).scatter_(1, i, s), X34,
         np.array([[0, 2], [3, 1], [1, 0]]), r(3, 2)),
    Case("scatter_add_inplace", lambda T, x, i, s: (x * 1).scatter_add_(0, i, s), X34,
         idx(3, 4, 4), r(4, 4)),
    Case("index_add", lambda T, x, i, s: T.index_add(x, 0, i, s, alpha=2.0), X34,
         np.array([2, 0, 2]), r(3, 4)),
    Case("index_add_inplace", lambda T, x, i, s: (x * 1).index_add_(1, i, s), X34,
         np.array([3, 3]), r(3, 2)),
    Case("index_fill", lambda T, x, i: x.index_fill(1, i, -1.0), X34, np.array([0, 2])),
    Case("index_copy", lambda T, x, i, s: x.index_copy(0, i, s), X34, np.array([2, 0]), r(2, 4)),
    # -- contractions ----------------------------------------------------------------------------
    Case("einsum_matmul", lambda T, a, b: T.einsum("ij,jk->ik", a, b), r(2, 3), r(3, 4),
         compiled=True),
    Case("einsum_batched", lambda T, a, b: T.einsum("bij,bjk->bik", a, b), r(2, 2, 3), r(2, 3, 4)),
    Case("einsum_outer", lambda T, a, b: T.einsum("i,j->ij", a, b), r(3), r(4)),
    Case("einsum_trace", lambda T, a: T.einsum("ii", a), SQ),
    Case("einsum_diag", lambda T, a: T.einsum("ii->i", a), SQ),
    Case("einsum_transpose", lambda T, a: T.einsum("ij->ji", a), X34),
    Case("einsum_sum", lambda T, a: T.einsum("ijk->j", a), X234),
    Case("einsum_dot", lambda T, a, b: T.einsum("i,i->", a, b), r(4), r(4)),
    Case("einsum_implicit", lambda T, a, b: T.einsum("ij,jk", a, b), r(2, 3), r(3, 2)),
    Case("einsum_ellipsis", lambda T, a, b: T.einsum("...ij,...jk->...ik", a, b), r(2, 2, 3),
         r(2, 3, 2)),
    Case("einsum_attention", lambda T, q, k: T.einsum("bhqd,bhkd->bhqk", q, k), r(1, 2, 3, 4),
         r(1, 2, 5, 4)),
    Case("einsum_three", lambda T, a, b, c: T.einsum("ij,jk,kl->il", a, b, c), r(2, 3), r(3, 4),
         r(4, 2)),
    Case("einsum_broadcast_bilinear", lambda T, a, w, b: T.einsum("bi,oij,bj->bo", a, w, b),
         r(2, 3), r(4, 3, 2), r(2, 2)),
    Case("einsum_list", lambda T, a, b: T.einsum("ij,ij->i", [a, b]), X34, r(3, 4)),
    Case("addmm", lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2.0), r(2, 4), r(2, 3),
         r(3, 4)),
    Case("addmm_bias", lambda T, c, a, b: c.addmm(a, b), r(4), r(2, 3), r(3, 4)),
    Case("baddbmm", lambda T, c, a, b: T.baddbmm(c, a, b, alpha=0.5), r(2, 2, 4), r(2, 2, 3),
         r(2, 3, 4)),
    Case("baddbmm_beta0", lambda T, c, a, b: T.baddbmm(c, a, b, beta=0.0),
         np.full((2, 2, 4), np.nan), r(2, 2, 3), r(2, 3, 4), grad=(1, 2)),
    Case("addbmm", lambda T, c, a, b: T.addbmm(c, a, b), r(2, 4), r(3, 2, 3), r(3, 3, 4)),
    Case("addmv", lambda T, c, a, v: T.addmv(c, a, v), r(2), r(2, 3), r(3)),
    Case("addr", lambda T, c, a, b: T.addr(c, a, b), r(2, 3), r(2), r(3)),
    # a 0-dim index on a vector counts as one element (the tutorials' one-hot target transform)
    Case("scatter_0dim_index_value", lambda T, x: (x * 1).scatter_(0, T.tensor(3), value=1.0),
         r(6)),
    Case("scatter_add_0dim_index", lambda T, x, s: x.scatter_add(0, T.tensor(2), s), r(6), r()),
    Case("mv", lambda T, a, v: (T.mv(a, v), a.mv(v)), r(2, 3), r(3), compiled=True),
]
