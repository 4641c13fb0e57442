"""PyTorch's other spellings of ops (stepjit/ops/spellings.py, nn/torch_forms.py) against
PyTorch: values, dtypes and gradients, one table recorded by tests/fixtures/record_spellings.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(2112)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
V = RNG.standard_normal(6)
W = RNG.standard_normal(6)
A = RNG.uniform(1.1, 3.0, (3, 4))
U = RNG.uniform(-0.9, 0.9, (3, 4))
X4 = RNG.standard_normal((2, 3, 4, 6))
IMG = RNG.standard_normal((2, 3, 5, 5))
K = RNG.standard_normal((4, 3, 3, 3))
KB = RNG.standard_normal(4)
SQ = RNG.standard_normal((4, 4))


def _comparisons(T, x, y):
    outs = (T.greater(x, y), T.greater_equal(x, 0.1), T.less(x, y), T.less_equal(y, x),
            T.not_equal(x, x.round()), x.greater(y), x.less_equal(0.0), x.not_equal(y))
    inplace = []
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_",
                 "not_equal_"):
        inplace.append(getattr(x.detach().clone(), name)(y))
    return outs + tuple(inplace)


def _windows(T):
    out = []
    for n in (0, 1, 2, 7, 8):
        for periodic in (True, False):
            out += [T.hann_window(n, periodic, dtype=T.float64),
                    T.hamming_window(n, periodic, dtype=T.float64),
                    T.hamming_window(n, periodic, 0.5, 0.5, dtype=T.float64),
                    T.blackman_window(n, periodic, dtype=T.float64),
                    T.bartlett_window(n, periodic, dtype=T.float64),
                    T.kaiser_window(n, periodic, dtype=T.float64),
                    T.kaiser_window(n, periodic, 5.0, dtype=T.float64)]
    return tuple(out)


def _splits(T, x4, v):
    return (T.hsplit(x4, 3) + T.hsplit(x4, [1, 2]) + T.vsplit(x4, 2) + T.dsplit(x4, 2)
            + T.dsplit(x4, [1, 3]) + T.hsplit(v, 2) + x4.vsplit([1])
            + tuple(T.split_with_sizes(v, [2, 4])) + tuple(x4.split_with_sizes([1, 2], 1)))


def _fill_diagonal(T, x, sq):
    tall = T.zeros(7, 3, dtype=T.float64)
    cube = T.zeros(3, 3, 3, dtype=T.float64)
    return (x.clone().fill_diagonal_(5.0), sq.clone().fill_diagonal_(-1.0),
            tall.clone().fill_diagonal_(2.0), tall.clone().fill_diagonal_(2.0, wrap=True),
            cube.fill_diagonal_(4.0), (x * 2).fill_diagonal_(0.0))


def _torch_forms(T, img, k, kb, x4):
    conv = T.conv2d(img, k, kb, 1, 1)
    return (conv, T.conv2d(img, k, None, 2), T.max_pool2d(img, 2), T.avg_pool1d(img[:, :, 0], 2),
            T.dropout(img, 0.3, False), T.alpha_dropout(img, 0.3, False),
            T.layer_norm(x4, [6]), T.layer_norm(x4, (4, 6), None, None, 1e-3, True),
            T.group_norm(img, 3), T.batch_norm(img, None, None, None, None, True, 0.1, 1e-5, False),
            T.instance_norm(img, None, None, None, None, True, 0.1, 1e-5, False),
            T.embedding(k.reshape(12, 9), T.tensor([[0, 11, 3], [3, 3, 5]])),
            T.selu(img), T.celu(img), T.threshold(img, 0.2, -1.0), T.hardshrink(img),
            T.pixel_shuffle(x4.reshape(-1)[:48].reshape(2, 4, 2, 3), 2))


CASES = [
    Case("comparisons", _comparisons, X, Y, grad=()),
    Case("inplace_arith", lambda T, x, y, a: (
        x.clone().multiply_(y), x.clone().subtract_(y, alpha=2), x.clone().divide_(a),
        x.clone().true_divide_(a), x.clone().fmod_(1.5), x.clone().remainder_(0.7),
        x.clone().copysign_(y), x.clone().absolute_(), x.detach().clone().heaviside_(y.detach().round())),
        X, Y, A),
    Case("inplace_products", lambda T, x, sq: (
        sq.clone().addmm_(sq, sq.T, beta=0.5, alpha=2), sq[0].clone().addmv_(sq, sq[1]),
        sq.clone().addr_(sq[0], sq[1]),
        sq.unsqueeze(0).clone().baddbmm_(sq.unsqueeze(0), sq.unsqueeze(0)),
        sq.clone().addbmm_(sq.unsqueeze(0), sq.unsqueeze(0), alpha=0.5),
        x.clone().cumsum_(1), x.clone().cumprod_(0)), X, SQ),
    Case("hyperbolic_aliases", lambda T, a, u, x: (
        T.arccosh(a), T.arcsinh(x), T.arctanh(u), a.arccosh(), x.arcsinh(), u.arctanh(),
        a.detach().clone().arccosh_(), x.detach().clone().arcsinh_(), u.detach().clone().arctanh_(), T.absolute(x),
        x.absolute()), A, U, X),
    Case("arith_aliases", lambda T, x, y: (
        T.multiply(x, y), T.subtract(x, y, alpha=3), T.negative(x), T.positive(x),
        T.swapdims(x, 0, 1), x.swapdims(1, 0)), X, Y),
    Case("vdot_diagflat", lambda T, v, w, x: (
        T.vdot(v, w), v.vdot(w), T.diagflat(v), T.diagflat(x, 1), x.diagflat(-2)), V, W, X),
    Case("splits", _splits, X4, V),
    Case("sum_to_size", lambda T, x4: (
        x4.sum_to_size(3, 1, 6), x4.sum_to_size((1, 1, 4, 1)), x4.sum_to_size(6),
        x4.sum_to_size(2, 3, 4, 6)), X4),
    Case("fill_diagonal", _fill_diagonal, X, SQ),
    Case("windows", _windows),
    Case("scalar_tensor", lambda T: (T.scalar_tensor(3, dtype=T.float32),
                                     T.scalar_tensor(2.5, dtype=T.float64),
                                     T.scalar_tensor(True, dtype=T.int64))),
    Case("linalg_spellings", lambda T, x, sq: (
        T.pinverse(x), x.pinverse(), x.svd().S, x.svd().U.abs(), sq.slogdet()[1],
        sq.slogdet()[0]), X, SQ),
    # (a cutoff that drops a singular value: values only; docs/edge_cases.md says why)
    Case("pinverse_cutoff", lambda T, x: (T.pinverse(x, 0.5), x.pinverse(0.2)), X, grad=()),
    Case("torch_forms", _torch_forms, IMG, K, KB, X4),
    Case("scatters_into_copies", lambda T, x, x4, v, sq: (
        T.masked_scatter(x, x > 0.2, v.repeat(2)),
        x.masked_scatter(T.tensor([True, False, True, False]), v),
        x.clone().masked_scatter_(x < 0, v.repeat(2)),
        T.select_scatter(x, v[:4], 0, 1), T.select_scatter(x4, x4[:, 0] * 3, 1, -1),
        x4.select_scatter(x4[1] * 2, 0, 0),
        T.slice_scatter(x4, x4[:, :, 1:3] * 2, 2, 1, 3), T.slice_scatter(x, x[::2] * 5, step=2),
        T.diagonal_scatter(sq, v[:4]), T.diagonal_scatter(x, v[:3], 1),
        T.diagonal_scatter(x4, x4.diagonal(0, 1, 3) * -1, 0, 1, 3)), X, X4, V, SQ),
    Case("renorm_ldexp_put", lambda T, x, x4, y: (
        x.renorm(2, 0, 1.5), T.renorm(x4, 1, 1, 4.0), x4.renorm(3, -1, 2.0),
        T.ldexp(x, T.tensor([1.0, -2.0, 3.0, 0.0], dtype=x.dtype)),
        T.ldexp(x, T.tensor([1, 2, 3, 0])), x.detach().ldexp(T.tensor([1, -2, 3, 0])), x.put(T.tensor([0, 11, 5]), y[0, :3]),
        x.put(T.tensor([1, 1, 4]), y[1, :3], accumulate=True),
        x.clone().put_(T.tensor([[2, 3]]), y[2, :2]), T.narrow_copy(x, 1, 1, 2),
        T.rsub(x, y, alpha=2), T.rsub(x, 3.0)), X, X4, Y),
    Case("creation_spellings", lambda T: (
        T.range(1, 4, dtype=T.float64), T.range(0, 1, 0.25, dtype=T.float64),
        T.range(5, 1, -1.5, dtype=T.float64), T.asarray([[1, 2], [3, 4]]),
        T.asarray([1.5, 2.5], dtype=T.float64), T.asarray(np.arange(3.0)))),
    Case("conjugate_views", lambda T, x, x3: (x.H, x.mH, x.adjoint(), x3.mH, x3.adjoint(),
                                              x.new([1, 2]), x.new(2, 3).shape[1] * x[0, 0]),
         X, X4[0]),
]
