"""Math, statistics, stacking, search, products and linear algebra functions checked against
PyTorch: one table, recorded by tests/fixtures/record_math.py (float64 values and gradients).
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1818)


def r(*shape):
    return RNG.standard_normal(shape)


def unit(*shape):
    return RNG.uniform(-0.9, 0.9, shape)


def prob(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def idx(hi, *shape):
    return RNG.integers(0, hi, shape).astype(np.int64)


def well_conditioned(n, *batch):
    return RNG.standard_normal(batch + (n, n)) + 3 * np.eye(n)


X34 = r(3, 4)
X234 = r(2, 3, 4)
NONINT = np.array([[1.7, -1.7, 0.3, -0.3], [2.5, -2.5, 4.2, -0.9], [3.1, -3.9, 0.6, -5.5]])

CASES = [
    # -- trigonometry and friends ------------------------------------------------------------
    Case("atan2", lambda T, y, x: T.atan2(y, x), r(3, 4), r(3, 4), compiled=True),
    Case("atan2_broadcast", lambda T, y, x: y.atan2(x), r(3, 1), r(4)),
    Case("arctan2_quadrants", lambda T, y, x: T.arctan2(y, x),
         np.array([1.0, 1.0, -1.0, -1.0, 0.5]), np.array([1.0, -1.0, -1.0, 1.0, -2.0])),
    Case("atan", lambda T, x: T.atan(x), r(3, 4), compiled=True),
    Case("asin_acos", lambda T, x: (T.asin(x), x.acos(), T.arcsin(x)), unit(3, 4)),
    Case("tan", lambda T, x: x.tan(), unit(5)),
    Case("sinh_cosh", lambda T, x: (T.sinh(x), T.cosh(x)), r(3, 4), compiled=True),
    Case("asinh_atanh", lambda T, x: (T.asinh(x), T.atanh(x)), unit(6)),
    Case("acosh", lambda T, x: T.acosh(x), RNG.uniform(1.2, 3.0, 5)),
    Case("deg2rad_rad2deg", lambda T, x: (T.deg2rad(x), T.rad2deg(x)), r(4)),
    Case("hypot", lambda T, a, b: T.hypot(a, b), r(3, 4), r(4), compiled=True),
    # -- exp / log composites -----------------------------------------------------------------
    Case("logaddexp", lambda T, a, b: T.logaddexp(a, b), r(3, 4) * 30, r(3, 4) * 30,
         compiled=True),
    Case("logaddexp_equal_and_inf", lambda T, a, b: T.logaddexp(a, b),
         np.array([1.5, -np.inf, np.inf, 0.0, -np.inf]),
         np.array([1.5, -np.inf, 2.0, -np.inf, 3.0]), grad=()),
    Case("logaddexp_grad_equal_and_inf", lambda T, a, b: T.logaddexp(a, b),   # (not both inf:
         np.array([1.5, np.inf, 0.0, -np.inf]), np.array([1.5, 2.0, -np.inf, 3.0])),  # docs)
    Case("logaddexp2", lambda T, a, b: a.logaddexp2(b), r(5), r(5)),
    Case("logit", lambda T, p: T.logit(p), prob(3, 4), compiled=True),
    Case("logit_eps", lambda T, p: p.logit(eps=0.1), np.array([0.01, 0.05, 0.5, 0.95, 0.99])),
    Case("xlogy", lambda T, x, y: T.xlogy(x, y), np.array([0.0, 1.5, -2.0, 0.0]),
         np.array([0.0, 2.0, 0.5, 3.0])),
    Case("xlogy_inf_nan", lambda T, x, y: T.xlogy(x, y), np.array([0.0, 0.0, 2.0]),
         np.array([np.inf, np.nan, np.inf]), grad=()),   # (gradient at 0 * log(inf): docs)
    # -- rounding -----------------------------------------------------------------------------
    Case("trunc_frac", lambda T, x: (T.trunc(x), T.frac(x), x.fix()), NONINT, compiled=True),
    Case("trunc_int", lambda T, x: x.trunc(), idx(9, 5) - 4),
    Case("signbit_heaviside", lambda T, x, v: (T.signbit(x), T.heaviside(x, v)),
         np.array([-1.5, -0.0, 0.0, 2.0]), np.array([0.5, 0.5, 0.5, 0.5]), grad=()),
    # -- statistics ---------------------------------------------------------------------------
    Case("std_mean", lambda T, x: T.std_mean(x, 1), X34, compiled=True),
    Case("var_mean_keepdim", lambda T, x: T.var_mean(x, (0, 2), keepdim=True, correction=0),
         X234),
    Case("std_mean_all", lambda T, x: T.std_mean(x), X34),
    Case("median_all", lambda T, x: T.median(x), X34),
    Case("median_all_even", lambda T, x: x.median(), r(6)),
    Case("median_dim", lambda T, x: T.median(x, 1), X34, compiled=True),
    Case("median_dim_keepdim", lambda T, x: x.median(dim=0, keepdim=True), X234),
    Case("mode", lambda T, x: T.mode(x, 1),
         np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [5.0, 5.0, 4.0, 4.0, 0.0], [7.0, 6.0, 6.0, 2.0, 6.0]])),
    Case("mode_int", lambda T, x: x.mode(0), idx(3, 7, 2), grad=()),
    Case("cummax", lambda T, x: T.cummax(x, 1), X34, compiled=True),
    Case("cummax_ties", lambda T, x: x.cummax(0), np.array([1.0, 3.0, 3.0, 2.0, 5.0, 5.0])),
    Case("cummin", lambda T, x: T.cummin(x, 0), X34),
    Case("logcumsumexp", lambda T, x: T.logcumsumexp(x * 20, 1), X34, compiled=True),
    Case("logcumsumexp_dim0", lambda T, x: x.logcumsumexp(0), X234),
    Case("histc", lambda T, x: T.histc(x, bins=5, min=-2, max=2), r(30), grad=()),
    Case("histogram", lambda T, x: T.histogram(x, bins=6), r(40), grad=()),
    Case("histogram_density_range",
         lambda T, x: T.histogram(x, 5, range=(-1.0, 1.0), density=True), r(40), grad=()),
    Case("histogram_edges_weight", lambda T, x, w: x.histogram(
        T.tensor([-1.0, 0.0, 0.5, 2.0], dtype=T.float64), weight=w), r(30), prob(30), grad=()),
    Case("histc_data_range", lambda T, x: x.histc(4), np.array([1.0, 2.0, 1.0, 4.0, 2.5]),
         grad=()),
    Case("dist", lambda T, a, b: (T.dist(a, b), T.dist(a, b, 1), a.dist(b, 3)), X34, r(3, 4)),
    Case("cdist", lambda T, a, b: T.cdist(a, b), r(4, 3), r(5, 3), compiled=True),
    Case("cdist_p1_batched", lambda T, a, b: T.cdist(a, b, p=1.0), r(2, 3, 2), r(2, 4, 2)),
    Case("cdist_inf", lambda T, a, b: T.cdist(a, b, p=float("inf")), r(3, 2), r(2, 2)),
    Case("cdist_zero_distance", lambda T, a, b: T.cdist(a, b),
         np.array([[0.0, 1.0], [2.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 1.0]])),
    # -- products -------------------------------------------------------------------------------
    Case("kron", lambda T, a, b: T.kron(a, b), r(2, 3), r(3, 2), compiled=True),
    Case("kron_ranks", lambda T, a, b: a.kron(b), r(2), r(2, 2, 3)),
    Case("tensordot_int", lambda T, a, b: T.tensordot(a, b, 2), X234, r(3, 4, 5),
         compiled=True),
    Case("tensordot_pairs", lambda T, a, b: T.tensordot(a, b, dims=([0, 2], [2, 0])), X234,
         r(4, 5, 2)),
    Case("tensordot_zero", lambda T, a, b: T.tensordot(a, b, 0), r(2), r(3)),
    Case("cross", lambda T, a, b: T.cross(a, b, dim=1), r(4, 3), r(4, 3), compiled=True),
    Case("cross_default_dim", lambda T, a, b: a.cross(b), r(3, 2), r(3, 2)),
    Case("linalg_cross", lambda T, a, b: T.linalg.cross(a, b), r(2, 3), r(1, 3)),
    # -- stacking and splitting -------------------------------------------------------------------
    Case("hstack_vstack_dstack", lambda T, a, b: (T.hstack([a, b]), T.vstack([a, b]),
                                                  T.dstack([a, b])), X34, r(3, 4)),
    Case("hstack_1d", lambda T, a, b: T.hstack((a, b)), r(3), r(2)),
    Case("vstack_1d", lambda T, a, b: T.vstack([a, b]), r(3), r(3)),
    Case("column_stack", lambda T, a, b: T.column_stack([a, b]), r(3), r(3, 2)),
    Case("concatenate", lambda T, a, b: T.concatenate([a, b], 1), X34, r(3, 2)),
    Case("atleast", lambda T, a: (T.atleast_2d(a), T.atleast_3d(a)), r(4)),
    Case("tensor_split_sections", lambda T, x: T.tensor_split(x, 3, dim=1), r(2, 7)),
    Case("tensor_split_indices", lambda T, x: x.tensor_split([1, 5, 9]), r(7, 2)),
    Case("rot90", lambda T, x: (T.rot90(x), T.rot90(x, 2), x.rot90(3), T.rot90(x, -1, [1, 0])),
         X34, compiled=True),
    Case("rot90_3d", lambda T, x: T.rot90(x, 1, [1, 2]), X234),
    Case("flipud_fliplr", lambda T, x: (T.flipud(x), x.fliplr()), X34),
    # -- search and membership -----------------------------------------------------------------
    Case("take", lambda T, x, i: T.take(x, i), X34, np.array([[0, 11], [5, -1]]),
         compiled=True),
    Case("argwhere", lambda T, x: T.argwhere(x > 0.3), X234, grad=()),
    Case("isin", lambda T, a, b: (T.isin(a, b), T.isin(a, b, invert=True)), idx(6, 3, 4),
         np.array([1, 4, 9]), grad=()),
    Case("searchsorted", lambda T, s, v: (T.searchsorted(s, v), T.searchsorted(s, v, right=True),
                                          T.searchsorted(s, v, side="right", out_int32=True)),
         np.array([1.0, 2.0, 2.0, 5.0, 7.0]), np.array([[0.5, 2.0, 6.0], [7.0, 9.0, 1.0]]),
         grad=()),
    Case("searchsorted_batched", lambda T, s, v: T.searchsorted(s, v),
         np.sort(r(2, 5), axis=1), r(2, 3), grad=()),
    Case("bucketize", lambda T, x, b: (T.bucketize(x, b), T.bucketize(x, b, right=True)),
         np.array([[0.5, 2.0, 6.0], [7.0, 9.0, 1.0]]), np.array([1.0, 2.0, 5.0, 7.0]), grad=()),
    Case("tril_triu_indices", lambda T: (T.tril_indices(3, 4), T.tril_indices(4, 3, -1),
                                         T.triu_indices(3, 3), T.triu_indices(3, 5, 2))),
    Case("logspace", lambda T: (T.logspace(0, 2, 5, dtype=T.float64),
                                T.logspace(-1, 1, 3, base=2.0, dtype=T.float64))),
    # -- linear algebra -----------------------------------------------------------------------
    Case("linalg_inv", lambda T, a: T.linalg.inv(a), well_conditioned(3), compiled=True),
    Case("inverse_batched", lambda T, a: T.inverse(a), well_conditioned(2, 2)),
    Case("det", lambda T, a: (T.det(a), T.linalg.det(a)), r(3, 3), compiled=True),
    Case("det_batched", lambda T, a: a.det(), r(2, 4, 4)),
    Case("slogdet_logdet", lambda T, a: (T.linalg.slogdet(a), T.logdet(a)),
         well_conditioned(3, 2)),
    Case("solve_vector", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(3), r(3),
         compiled=True),
    Case("solve_matrix_batched", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(3, 2),
         r(2, 3, 2)),
    Case("linalg_norm", lambda T, x: (T.linalg.norm(x), T.linalg.norm(x, dim=1),
                                      T.linalg.norm(x, ord=1, dim=0, keepdim=True)), X34),
    Case("vector_norm", lambda T, x: (T.linalg.vector_norm(x), T.linalg.vector_norm(x, 3, 1),
                                      T.linalg.vector_norm(x, float("inf"), (0, 1)),
                                      T.linalg.vector_norm(x, float("-inf"), 1),
                                      T.linalg.vector_norm(x, 0)), X34, compiled=True),
    Case("matrix_norm", lambda T, x: (T.linalg.matrix_norm(x), T.linalg.matrix_norm(x, 1),
                                      T.linalg.matrix_norm(x, float("inf")),
                                      T.linalg.matrix_norm(x, -1, keepdim=True),
                                      T.linalg.norm(x, "fro", (1, 2))), X234),
    # -- NaN-skipping reductions, differences, integrals, constructions ----------------------
    Case("nansum_nanmean", lambda T, x: (T.nansum(x), x.nansum(1), T.nanmean(x, 0),
                                         x.nanmean(1, keepdim=True)),
         np.array([[1.0, np.nan, 2.5], [np.nan, -1.0, 0.5]])),
    Case("nansum_finite", lambda T, x: T.nansum(x, 1), X34),
    Case("diff", lambda T, x, p: (T.diff(x), x.diff(n=2, dim=0), T.diff(x, prepend=p, dim=0)),
         r(4, 3), r(1, 3), compiled=True),
    Case("diff_bool", lambda T, x: T.diff(x > 0), r(6), grad=()),
    Case("trapezoid", lambda T, y, x: (T.trapezoid(y), T.trapezoid(y, dx=0.5, dim=0),
                                       T.trapezoid(y, x), T.trapz(y, x)), X34, np.sort(r(4))),
    Case("cumulative_trapezoid", lambda T, y, x: (T.cumulative_trapezoid(y),
                                                  T.cumulative_trapezoid(y, x, dim=1)),
         X34, np.sort(r(4))),
    Case("cartesian_prod", lambda T, a, b: T.cartesian_prod(a, b), r(3), r(2)),
    Case("combinations", lambda T, x: (T.combinations(x), T.combinations(x, 3),
                                       T.combinations(x, with_replacement=True)), r(4)),
    Case("block_diag", lambda T, a, b, c: T.block_diag(a, b, c), r(2, 2), r(1, 3), r(2)),
    Case("vander", lambda T, x: (T.vander(x), T.vander(x, N=2, increasing=True)), r(4),
         grad=()),   # (PyTorch's own vander fails its backward: an in-place write it saved)
    Case("pdist", lambda T, x: (T.pdist(x), T.pdist(x, p=1)), r(4, 3)),
    Case("inner_ger_chain", lambda T, a, b, c: (T.inner(a, b), T.ger(a[0], c),
                                                T.chain_matmul(a, b.t(), b)),
         X34, r(2, 4), r(3)),
    Case("matrix_power", lambda T, a: (T.matrix_power(a, 3), T.linalg.matrix_power(a, -2),
                                       a.matrix_power(0)), well_conditioned(3)),
    Case("special", lambda T, x: (T.special.expit(x), T.special.ndtr(x), T.special.log_ndtr(x),
                                  T.special.sinc(x), T.special.round(x, decimals=1),
                                  T.special.erf(x)), r(6)),
    Case("special_entr_xlog1py", lambda T, x, y: (T.special.entr(x), T.special.xlog1py(x, y)),
         np.array([0.5, 0.1, 2.0, 1.5]), np.array([0.3, 1.0, 2.0, -0.5])),
    Case("special_entr_edges", lambda T, x: T.special.entr(x), np.array([0.0, -1.0, 0.5]),
         grad=()),
    Case("inplace_math", lambda T, x: (
        (x * 1).trunc_(), (x * 1).frac_(), (x.abs() + 0.5).log_(), (x * 1).square_(),
        (x * 1).sin_(), (x * 1).floor_(), (x.abs() + 1).rsqrt_(), (x * 1).atan2_(x * 0 + 2)),
         NONINT, compiled=True),
    # -- integer divisors, product scatters ---------------------------------------------------
    Case("gcd_lcm", lambda T, a, b: (T.gcd(a, b), a.lcm(b), (a * 1).gcd_(b), T.lcm(b, a[:1])),
         np.array([0, 0, -12, 7, 6, 2 ** 40, -9, 15]),
         np.array([0, -4, 18, 0, -4, 3 * 2 ** 20, -6, 25]), compiled=True),
    Case("scatter_reduce_prod", lambda T, x, src, i: (
        x.scatter_reduce(0, i, src, "prod"), x.scatter_reduce(1, i, src, "prod", include_self=False),
        T.scatter_reduce(x, 0, i, src, reduce="prod", include_self=False)),
         np.array([[1.0, 2, 0, 4], [5, 0, 7, 8], [2, 3, 4, 5]]),
         np.array([[0.5, 0.0, 3.0], [2.0, 4.0, -1.0]]), np.array([[0, 2, 0], [2, 2, 1]]),
         compiled=True),
    # -- other names and small conveniences (stepjit/ops/aliases.py) ------------------------
    Case("aliases", lambda T, x, y: (
        T.absolute(x), T.arcsinh(x), T.arccosh(x.abs() + 1), T.arctanh(x / 5), T.greater(x, y),
        T.less_equal(x, 0.5), T.not_equal(x, y), T.multiply(x, y), T.subtract(x, y, alpha=2),
        T.rsub(x, 3.0, alpha=2), T.swapdims(x, 0, 1), x.swapdims(1, 0),
        T.positive(x), T.vdot(x[0], y[0]), T.diagflat(x[:2, :2], 1)),
         np.array([[1.5, -0.5, 2.0, -3.0], [0.25, 4.0, -1.0, 0.75], [2.5, -2.5, 1.0, 3.5]]),
         np.array([[1.0, 0.5, -2.0, -3.0], [0.5, 4.0, 1.0, 2.0], [2.5, 2.0, -1.0, 0.5]]),
         compiled=True),
    Case("aliases_inplace_and_splits", lambda T, x: (
        (x * 1).multiply_(2), (x * 1).subtract_(1), (x * 1).absolute_(),
        (x * 1).fmod_(2), (x * 1).cumsum_(1), *T.hsplit(x, 2), *T.vsplit(x, [1]),
        *T.dsplit(x.reshape(3, 2, 2), [1]), x.sum_to_size(1, 4), x.mH, x.H,
        T.zeros(3, 4).fill_diagonal_(2.5) + x),
         np.array([[1.5, -0.5, 2.2, -3.3], [0.25, 3.6, -1.1, 0.3], [2.5, -2.5, 1.2, 3.5]])),
    Case("aliases_inplace_comparisons", lambda T, x: (
        (x * 1).eq_(x.abs()), (x * 1).greater_(0.5), (x * 1).less_equal_(1.0),
        T.zeros(5, 2).fill_diagonal_(1, wrap=True), T.zeros(2, 2, 2).fill_diagonal_(3)),
         np.array([[1.5, -0.5, 2.0, -3.0], [0.25, 4.0, -1.0, 0.0]]), grad=()),
    Case("windows_and_range", lambda T, x: (
        T.hann_window(8, dtype=T.float64), T.hann_window(7, periodic=False, dtype=T.float64),
        T.hamming_window(6, dtype=T.float64), T.blackman_window(9, dtype=T.float64),
        T.bartlett_window(6, False, dtype=T.float64), T.hann_window(1, dtype=T.float64),
        x * T.hann_window(4, dtype=T.float64), T.range(1, 4, dtype=T.float64),
        T.range(0, 1, 0.25, dtype=T.float64)), np.array([1.0, 2.0, 3.0, 4.0]), grad=()),
]
