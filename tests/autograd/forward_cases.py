"""Forward-mode AD against PyTorch: one table, recorded by tests/fixtures/record_forward_ad.py
(float64).

Each case is f(T, *primals) with one tangent per primal: the case's function makes dual
tensors inside `T.autograd.forward_ad.dual_level()`, runs f and returns (primal output,
tangent output). The oracle's backward of its cotangent loss through both gives
reverse-over-forward gradients as well. `PRIMALS[name]` is (f, number of primals) for the
finite-difference check of the tangents.
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(4242)


def r(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def dual_call(f, n):
    """fn(T, *primals, *tangents) -> (f's output, its tangent) in forward mode."""
    def fn(T, *ts):
        fwAD = T.autograd.forward_ad
        with fwAD.dual_level():
            duals = [fwAD.make_dual(x, v) for x, v in zip(ts[:n], ts[n:])]
            out = f(T, *duals)
            primal, tangent = fwAD.unpack_dual(out)
            if tangent is None:
                tangent = T.zeros_like(primal)
        return primal, tangent
    return fn


PRIMALS = {}
CASES = []


def case(name, f, *primals, compiled=False, reverse=True):
    """`reverse`: also record gradients through the tangents (PyTorch 2.13's logsumexp,
    softmax, log_softmax and attention cannot: their forward-mode formulas write in place into a value
    their backward saved). layer_batch_norm,
    inv_det: PyTorch's gradients through these tangents differ from those of the same
    tangent written out as an expression (det(x) * (inv(x).mT * v).sum(), where PyTorch's
    own reverse mode agrees with stepjit's)."""
    PRIMALS[name] = (f, len(primals))
    tangents = [RNG.standard_normal(np.shape(p)) for p in primals]
    CASES.append(Case(name, dual_call(f, len(primals)), *primals, *tangents,
                      grad=range(len(primals)) if reverse else (), compiled=compiled))


F = lambda T: T.nn.functional   # noqa: E731

# -- elementwise ------------------------------------------------------------------------------
case("exp_log_sin", lambda T, x: x.exp() * x.sin() + (x * x + 1).log(), r(3, 4), compiled=True)
case("tanh_sigmoid_relu", lambda T, x: x.tanh() + x.sigmoid() * x.relu(), r(5))
case("pow_div_sqrt", lambda T, x, y: x ** 3 / y + y.sqrt() ** y, r(4), positive(4))
case("broadcast_binary", lambda T, x, y: (x - y) * x / (y + 3), r(3, 1), r(4))
case("maximum_minimum_where", lambda T, x, y: T.maximum(x, y) - T.where(x > 0, T.minimum(x, y), x * 2),
     r(6), r(6))
case("clamp_abs_erf_atan2", lambda T, x, y: x.clamp(-0.5, 0.5) + x.abs() * T.erf(y) + T.atan2(x, y),
     r(5), r(5))
case("lgamma_digamma_expm1_log1p", lambda T, x: T.lgamma(x) + T.digamma(x) + x.expm1() + x.log1p(),
     positive(4))
case("gelu_softplus_silu", lambda T, x: F(T).gelu(x) + F(T).softplus(x) * F(T).silu(x), r(2, 3))
case("float_cast", lambda T, x: (x.float() * 2).double(), r(3))
# -- reductions -------------------------------------------------------------------------------
case("sum_mean_axes", lambda T, x: x.sum(0) + x.mean(1, keepdim=True), r(3, 3))
case("amax_amin_prod", lambda T, x: x.amax(1) * x.amin(0) + x.prod(1), r(3, 3))
case("var_norm", lambda T, x: x.var(1) + x.norm(dim=1), r(2, 5))
case("logsumexp", lambda T, x: x.logsumexp(1), r(2, 5), reverse=False)
case("softmax_log_softmax", lambda T, x: x.softmax(-1) * x.log_softmax(0), r(3, 4), reverse=False)
case("cumsum", lambda T, x: x.cumsum(1) * x, r(2, 4))
# -- shapes and indexing ----------------------------------------------------------------------
case("movement", lambda T, x: x.reshape(2, 6).t().unsqueeze(0).expand(2, 6, 2).permute(2, 0, 1),
     r(3, 4))
case("cat_stack_slices", lambda T, x, y: T.cat([x[1:], y[1:, ::2]], 1)[:, :4] + T.stack([x, y])[1, :2],
     r(3, 4), r(3, 4))
case("gather_index_select",
     lambda T, x: x[T.tensor([2, 0, 2])] * x.gather(1, T.tensor([[0, 1], [1, 0], [3, 3]])).sum()
     + x.index_select(1, T.tensor([3, 1]))[:, :1], r(3, 4))
case("setitem_and_scatter_add",
     lambda T, x, y: _setitem(T, x, y) + (x * 0).scatter_add(0, T.tensor([[0, 1, 2, 0]]), y[:1]),
     r(3, 4), r(3, 4))
case("inplace_through_views", lambda T, x, y: _through_views(x, y), r(3, 4), r(4),
     reverse=False)
# -- layers -----------------------------------------------------------------------------------
case("linear_mse", lambda T, x, w, b: F(T).mse_loss(F(T).linear(x, w, b), x[:, :2]),
     r(4, 3), r(2, 3), r(2), compiled=True)
case("cross_entropy", lambda T, x: F(T).cross_entropy(x, T.tensor([0, 2, 1])), r(3, 4), reverse=False)
case("conv2d_pools", lambda T, x, w: F(T).max_pool2d(F(T).conv2d(x, w, padding=1), 2)
     + F(T).avg_pool2d(x[:, :1], 2), r(1, 2, 4, 4), r(3, 2, 3, 3))
case("layer_batch_norm", lambda T, x, w: F(T).layer_norm(x, (4,), w)
     + F(T).batch_norm(x, None, None, training=True), r(3, 4), r(4), reverse=False)
case("attention", lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v, is_causal=True),
     r(1, 3, 4), r(1, 3, 4), r(1, 3, 4), reverse=False)
case("embedding_dropout_free", lambda T, w: F(T).embedding(T.tensor([[1, 0], [2, 2]]), w) * 2,
     r(3, 4))
case("cholesky_mvn_log_prob", lambda T, a, x: T.distributions.MultivariateNormal(
    x * 0, a @ a.mT + T.eye(3)).log_prob(x) + T.linalg.cholesky(a @ a.mT + T.eye(3)).sum(),
    r(3, 3), r(2, 3))
case("inv_det", lambda T, a: T.linalg.inv(a) * T.linalg.det(a),
     np.eye(3) * 2 + r(3, 3, lo=-0.3, hi=0.3), reverse=False)


def _linearized(T, x, w, v):
    out, jvp_fn = T.func.linearize(lambda x: (x @ w).tanh(), x)
    return out, jvp_fn(v), jvp_fn(v * 2)


CASES.append(Case("func_linearize", _linearized, r(2, 3), r(3, 2), r(2, 3), grad=()))


def _through_views(x, y):
    z = x * 1
    v = z[:, 1]
    v.mul_(y[:3])
    v.add_(y[1:])
    z[1] += v.sin()[0]
    z.mul_(y)
    return z


def _setitem(T, x, y):
    z = x * 1
    z[1] = y[0]
    z[:, 2] *= y[:, 1]
    return z
