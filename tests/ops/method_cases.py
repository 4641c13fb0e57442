"""Tensor methods and torch functions scripts reach for, in their method, keyword and in-place
spellings, against PyTorch: values, dtypes and gradients. One table, recorded by
tests/fixtures/record_methods.py. Non-tensor results (strides, dims) are recorded as arrays."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1818)
X = RNG.standard_normal((3, 5))
X3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(7)
IDX = np.array([[0, 4, 1], [2, 2, 3], [4, 0, 0]])
SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.nan, np.inf, -np.inf, 3.0])
NANS = np.array([[1.0, np.nan, 3.0, -2.0, 0.5], [np.nan, np.nan, np.nan, np.nan, np.nan],
                 [4.0, 1.0, 1.0, 2.0, 9.0]])
LABELS = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 0, 0, 0]])


def _index_put(T, x):
    rows, cols = T.tensor([0, 2, 0]), T.tensor([1, 3, 1])
    a = x.clone().index_put_((rows, cols), T.tensor([10.0, 20.0, 30.0], dtype=x.dtype))
    b = x.clone().index_put_((rows, cols), x[0, :3] * 2, accumulate=True)
    c = x.index_put((T.tensor([1]),), x[2] + 1)
    return a, b, c


def _reshape_inplace(T, x):
    a = x.clone()
    a.t_()
    b = x.clone()
    b.unsqueeze_(1)
    c = x.clone().unsqueeze(0)
    c.squeeze_(0)
    d = x.clone()
    d.transpose_(0, 1)
    return a, b, c, d, T.tensor(list(a.shape)), T.tensor(list(b.shape))


def _strides(T, x):
    t = x.t()
    e = x[:1].expand(4, 5)
    return (T.tensor(list(x.stride())), T.tensor(list(t.stride())), T.tensor(t.stride(1)),
            T.tensor(list(e.stride())), T.tensor(t.is_contiguous()),
            T.tensor(t.contiguous().is_contiguous()), T.tensor(list(x.t().contiguous().stride())),
            T.tensor(x.ndimension()), T.tensor(x.nelement()), T.tensor(x.element_size()),
            T.tensor(x.float().element_size()))


CASES = [
    Case("unfold", lambda T, x, v: (x.unfold(1, 2, 1), x.unfold(1, 3, 2), x.unfold(0, 3, 1),
                                    v.unfold(0, 4, 3), x.unfold(-1, 5, 1)), X, V),
    Case("unfold_3d", lambda T, x: (x.unfold(1, 2, 1), x.unfold(2, 2, 2)), X3),
    Case("select", lambda T, x: (x.select(1, 2), x.select(0, -1), x.select(-1, 0)), X3),
    Case("flip_spellings", lambda T, x: (x.flip(0, 1), x.flip([1]), x.flip((0,)), x.flip(-1),
                                         T.flip(x, [0, 1]), T.flip(x, (1,))), X),
    Case("take_along_dim", lambda T, x, i: (x.take_along_dim(i, dim=1), T.take_along_dim(x, i, -1),
                                            T.take_along_dim(x, i), x[:, :3].take_along_dim(i[:1] % 3, 0)),
         X, IDX),
    Case("gather_sparse_grad", lambda T, x, i: (T.gather(x, 1, i, sparse_grad=False),
                                                x.gather(-1, i)), X, IDX),
    Case("index_put", _index_put, X),
    Case("addcmul_addcdiv_", lambda T, x: (x.clone().addcmul_(x, x.flip(0), value=0.5),
                                           x.clone().addcdiv_(x, x.abs() + 1, value=-2),
                                           x.clone().addcmul_(x, x)), X),
    Case("reshape_inplace", _reshape_inplace, X),
    Case("strides_and_sizes", _strides, X, grad=()),
    Case("quantile", lambda T, x: (
        T.quantile(x, 0.3), T.quantile(x, 0.5, dim=1), x.quantile(0.75, dim=0, keepdim=True),
        T.quantile(x, T.tensor([0.0, 0.25, 1.0], dtype=x.dtype), dim=-1),
        T.quantile(x, T.tensor([0.1, 0.9], dtype=x.dtype), keepdim=True)), X),
    Case("quantile_interpolations", lambda T, x: tuple(
        T.quantile(x, q, dim=1, interpolation=m) for m in
        ("linear", "lower", "higher", "midpoint", "nearest") for q in (0.3, 0.5, 0.625)), X),
    Case("quantile_nan", lambda T, x: (T.quantile(x, 0.4, dim=1), T.nanquantile(x, 0.4, dim=1),
                                       x.nanquantile(T.tensor([0.2, 1.0], dtype=x.dtype), 1),
                                       T.nanquantile(x, 0.5)), NANS, grad=()),
    Case("cov_corrcoef", lambda T, x, w: (
        T.cov(x), T.cov(x, correction=0), x.cov(), T.corrcoef(x), T.cov(x[0]),
        T.cov(x, fweights=T.tensor([1, 2, 1, 3, 1]), aweights=w.abs()),
        T.cov(x, aweights=w.abs(), correction=2), T.cov(x, fweights=T.tensor([1, 1, 2, 1, 1]))),
         X, V[:5]),
    Case("copysign_fmax_fmin", lambda T, a, b: (
        T.copysign(a, b), T.copysign(a, -1.0), a.copysign(b.flip(0)), T.fmax(a, b), T.fmin(a, b),
        a.fmax(b.flip(0)), T.fmin(b, a)), np.append(V, 0.7), SPECIAL,
         grad=(0,)),
    Case("float_power_exp2_sinc", lambda T, x, i: (
        T.float_power(i, 2), T.float_power(x, 3), x.float_power(i[:5]),
        T.exp2(x), x.exp2(), T.sinc(x), T.sinc(x * 0)), X[0], np.array([1, 2, 3, 4, 5])),
    Case("ravel_aminmax_unravel", lambda T, x: (
        T.ravel(x.t()), x.ravel(), T.aminmax(x).min, T.aminmax(x).max,
        T.aminmax(x, dim=1).max, x.aminmax(dim=0, keepdim=True).min,
        *T.unravel_index(T.tensor([0, 7, 14, -1]), (3, 5)), *T.unravel_index(T.tensor(9), (5, 2))),
         X),
    Case("margin_losses", lambda T, x, t: (
        T.nn.functional.multilabel_margin_loss(x[:, :4], t),
        T.nn.functional.multilabel_margin_loss(x[:, :4], t, reduction="none"),
        T.nn.MultiLabelMarginLoss(reduction="sum")(x[0, :4], t[0]),
        T.nn.functional.triplet_margin_with_distance_loss(
            x, x.flip(0), x.roll(1, 1), margin=0.5, swap=True),
        T.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b: 1 - T.nn.functional.cosine_similarity(a, b),
            reduction="none")(x, x.flip(0), x.roll(1, 1))), X, LABELS),
    Case("rrelu_eval", lambda T, x: (T.nn.functional.rrelu(x), T.nn.RReLU(0.1, 0.3).eval()(x),
                                     T.nn.functional.rrelu(x, 0.2, 0.4, training=False)), X),
    Case("unique_dim", lambda T, m: (*T.unique(m, dim=0, return_inverse=True,
                                               return_counts=True),
                                     *m.unique(dim=1, return_inverse=True), T.unique(m, dim=-1)),
         np.array([[1, 2, 1, 2], [0, 1, 0, 1], [1, 2, 1, 2], [0, 0, 3, 0]])),
    Case("scatter_reduce", lambda T, x, s: tuple(
        x.scatter_reduce(1, T.tensor([[0, 2, 0, 4], [1, 1, 1, 3], [4, 4, 0, 0]]), s, r,
                         include_self=inc)
        for r in ("sum", "mean", "amax", "amin") for inc in (True, False)), X, X[:, :4] * 3),
    Case("scatter_reduce_ties_and_integers", lambda T, x, i: (
        x.scatter_reduce(0, T.tensor([[0, 1], [0, 1], [1, 1]]), x.round().abs(), "amax"),
        T.scatter_reduce(x * 0 + 1, 0, T.tensor([[1, 0], [1, 0], [1, 0]]), x * 0 + 1, "amin"),
        i.scatter_reduce(0, T.tensor([0, 0, 2, 2, 2]), i[:5] * 3, "mean"),
        i.clone().scatter_reduce_(0, T.tensor([1, 0, 1, 0, 3]), i[1:6], "amax",
                                  include_self=False)),
        np.array([[1.0, 2.0], [2.0, 2.0], [1.0, -2.0]]), np.array([7, -3, 5, 2, 9, 4])),
    Case("split_chunk", lambda T, x: (*x.split(2, dim=1), *x.split([1, 4], 1), *x.chunk(2, 1),
                                      *T.split(x, [2, 1], 0), *x.chunk(3, 0)), X),
]
