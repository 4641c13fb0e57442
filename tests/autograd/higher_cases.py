"""Higher-order gradients against PyTorch: one table, recorded by
tests/fixtures/record_higher.py (float64).

Each case returns first derivatives taken with create_graph=True (or a Jacobian, Hessian,
jvp...), so the oracle's backward of the cotangent loss through them gives second (or
third) derivatives: the recorded `grad<i>` are Hessian-vector products, and the finite
difference check differentiates the first derivatives numerically.
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(2718)


def r(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def leaves(xs):
    """The inputs as tensors that require grad (the finite-difference run passes plain ones)."""
    return [x if x.requires_grad else x.detach().requires_grad_(True) for x in xs]


def first(T, f, *xs):
    """d f(*xs) / d xs, with its own history (create_graph)."""
    with T.enable_grad():
        xs = leaves(xs)
        return T.autograd.grad(f(*xs), xs, create_graph=True)


def third(T, f, x):
    """The gradient of sum(d/dx (d/dx f . 1)): third derivatives by the oracle's backward."""
    with T.enable_grad():
        (x,) = leaves([x])
        (g,) = T.autograd.grad(f(x), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x, create_graph=True)
        return h


def through_backward(T, f, x, w):
    """.grad left by backward(create_graph=True): differentiable, as PyTorch leaves it."""
    with T.enable_grad():
        x, w = leaves([x, w])
        f(x, w).backward(create_graph=True)
        return x.grad, w.grad


def jvp_by_double_vjp(T, x, w, v):
    """The double-vjp trick written out: grad_outputs that require grad."""
    with T.enable_grad():
        x, w = leaves([x, w])
        y = (x @ w).tanh()
        u = T.zeros_like(y).requires_grad_(True)
        (gx,) = T.autograd.grad(y, x, u, create_graph=True)
        (jv,) = T.autograd.grad(gx, u, v, create_graph=True)
        return jv


def custom_square(T):
    class Square(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x   # tensor ops: taped under create_graph, so differentiable
    return Square


def wgan_gp(T, real, fake, w1, b1, w2):
    """A critic's WGAN-GP loss (gradient penalty on interpolates), as a function of weights."""
    def critic(x):
        return T.nn.functional.linear(T.tanh(T.nn.functional.linear(x, w1, b1)), w2)

    with T.enable_grad():
        alpha = T.linspace(0.1, 0.9, real.shape[0], dtype=real.dtype).reshape(-1, 1)
        mixed = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
        (g,) = T.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        return critic(fake).mean() - critic(real).mean() + 10 * penalty


def conv_net(T, x, k):
    y = T.nn.functional.conv2d(x, k, padding=1)
    return T.nn.functional.avg_pool2d(T.tanh(y), 2).pow(2).sum()


def values(d):
    """A dict of gradients (torch.func keeps the arguments' structure) as a tuple, by key."""
    return tuple(d[k] for k in sorted(d))


def model_gradients(T, w, b, x):
    """grad over functional_call: a Linear's parameters given as a dict."""
    model = T.nn.Linear(3, 2).double()   # (made outside the transform, as PyTorch requires)

    def loss(p, x):
        return T.func.functional_call(model, p, (x,)).tanh().pow(2).sum()
    return values(T.func.grad(loss)({"weight": w, "bias": b}, x))


def per_sample_gradients(T, w, b, x, y):
    """The functorch tutorial's per-sample gradients: vmap over grad over functional_call."""
    model = T.nn.Linear(3, 2).double()

    def loss(p, x, y):
        out = T.func.functional_call(model, p, (x.unsqueeze(0),))
        return T.nn.functional.mse_loss(out, y.unsqueeze(0))
    return values(T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))({"weight": w, "bias": b},
                                                                        x, y))


IDX = np.array([2, 0, 2, 1])
TARGET = np.array([1, 0, 2, 2])
MASK = np.array([True, False, True, True, False])

CASES = [
    # -- elementwise math ------------------------------------------------------------------
    Case("exp_sin", lambda T, x: first(T, lambda x: (x.exp() * x.sin()).sum(), x), r(5),
         compiled=True),
    Case("log_sqrt", lambda T, x: first(T, lambda x: (x.log() + x.sqrt() * x).sum(), x),
         positive(5)),
    Case("pow_div", lambda T, x, y: first(T, lambda x, y: (x ** 3 / y + x.pow(y)).sum(), x, y),
         positive(4), positive(4), compiled=True),
    Case("tanh_sigmoid", lambda T, x: first(T, lambda x: (x.tanh() * x.sigmoid()).sum(), x),
         r(6)),
    Case("relu_mul", lambda T, x, w: first(T, lambda x, w: (T.relu(x * w) * w).sum(), x, w),
         r(6), r(6)),
    Case("gelu_softplus", lambda T, x: first(
        T, lambda x: (T.nn.functional.gelu(x) + T.nn.functional.softplus(x)).sum(), x), r(5)),
    Case("log1p_expm1_reciprocal", lambda T, x: first(
        T, lambda x: (x.log1p() * x.expm1() + x.reciprocal()).sum(), x), positive(5)),
    Case("where_clamp_abs", lambda T, x: first(
        T, lambda x: (T.where(x > 0, x * x, x.exp()) + x.clamp(-0.5, 0.5) * x
                      + x.abs() * x).sum(), x), np.array([-0.9, -0.2, 0.3, 0.7, 1.4])),
    Case("maximum_minimum", lambda T, x, y: first(
        T, lambda x, y: (T.maximum(x, y) ** 2 + T.minimum(x, y) * x).sum(), x, y),
         r(5), r(5)),
    Case("atan_erf", lambda T, x: first(T, lambda x: (x.atan() * T.erf(x)).sum(), x), r(5)),
    # -- matmul, linear, broadcasting --------------------------------------------------------
    Case("matmul_tanh", lambda T, x, w: first(T, lambda x, w: T.tanh(x @ w).pow(2).sum(), x, w),
         r(3, 4), r(4, 2), compiled=True),
    Case("matmul_tanh_float32", lambda T, x, w: first(
        T, lambda x, w: T.tanh(x @ w).pow(2).sum(), x, w),
         r(3, 4).astype(np.float32), r(4, 2).astype(np.float32), tol=2e-5),
    Case("linear_bias", lambda T, x, w, b: first(
        T, lambda x, w, b: T.sigmoid(T.nn.functional.linear(x, w, b)).sum(), x, w, b),
         r(4, 3), r(2, 3), r(2)),
    Case("bmm", lambda T, a, b: first(T, lambda a, b: (T.bmm(a, b) ** 2).sum(), a, b),
         r(2, 2, 3), r(2, 3, 2)),
    Case("broadcast_outer", lambda T, x, y: first(
        T, lambda x, y: ((x[:, None] * y[None, :]).sin() + x.reshape(-1, 1) / (y + 3)).sum(),
        x, y), r(3), r(4)),
    # -- reductions ------------------------------------------------------------------------
    Case("mean_var", lambda T, x: first(T, lambda x: x.mean(0).pow(2).sum() + x.var(1).sum(), x),
         r(3, 4)),
    Case("amax_logsumexp", lambda T, x: first(
        T, lambda x: x.amax(1).pow(2).sum() + T.logsumexp(x, 0).sum(), x), r(3, 4)),
    Case("prod_norm", lambda T, x: first(T, lambda x: x.prod(1).sum() + x.norm(), x),
         positive(2, 3)),
    Case("cumsum", lambda T, x: first(T, lambda x: (x.cumsum(0) ** 3).sum(), x), r(5)),
    # -- indexing --------------------------------------------------------------------------
    Case("index_gather", lambda T, x: first(
        T, lambda x: (x[T.from_numpy(IDX)] ** 3).sum()
        + (T.gather(x, 1, T.from_numpy(IDX[1:].reshape(3, 1) % 2).repeat(1, 2)) ** 2).sum(), x),
         r(3, 2)),
    Case("mask_slice_cat", lambda T, x: first(
        T, lambda x: (x[T.from_numpy(MASK)] ** 3).sum()
        + (T.cat([x[1:3], x[:2] * x[3:]]) ** 2).sum(), x), r(5)),
    Case("index_select_stack", lambda T, x: first(
        T, lambda x: T.stack([x.index_select(0, T.from_numpy(IDX)), x[:4]]).exp().sum(), x),
         r(4)),
    # -- softmax and losses ----------------------------------------------------------------
    Case("softmax_log_softmax", lambda T, x: first(
        T, lambda x: (T.softmax(x, 1) ** 2).sum() + T.log_softmax(x, 0)[0].sum(), x), r(3, 4)),
    Case("cross_entropy", lambda T, x, w: first(
        T, lambda x, w: T.nn.functional.cross_entropy(x @ w, T.from_numpy(TARGET)), x, w),
         r(4, 3), r(3, 3), compiled=True),
    Case("mse_loss", lambda T, x, y: first(
        T, lambda x, y: T.nn.functional.mse_loss(T.tanh(x), y), x, y), r(3, 2), r(3, 2)),
    Case("bce_with_logits_nll", lambda T, x, y: first(
        T, lambda x, y: T.nn.functional.binary_cross_entropy_with_logits(x, y)
        + T.nn.functional.nll_loss(T.log_softmax(x, 1), T.from_numpy(TARGET[:3] % 2)), x, y),
         r(3, 2), RNG.uniform(0, 1, (3, 2)), grad=(0,)),
    # -- layers ----------------------------------------------------------------------------
    Case("conv2d_pool", lambda T, x, k: first(T, lambda x, k: conv_net(T, x, k), x, k),
         r(1, 2, 4, 4), r(3, 2, 3, 3), compiled=True),
    Case("layer_norm", lambda T, x, w: first(
        T, lambda x, w: (T.nn.functional.layer_norm(x, (4,), w) ** 3).sum(), x, w),
         r(2, 4), r(4)),
    # -- orders and routes -----------------------------------------------------------------
    Case("third_order", lambda T, x: third(T, lambda x: (x.sin() * x ** 3).sum(), x), r(4)),
    Case("backward_create_graph", lambda T, x, w: through_backward(
        T, lambda x, w: (x @ w).tanh().pow(2).sum(), x, w), r(2, 3), r(3, 2), compiled=True),
    Case("jvp_double_vjp", jvp_by_double_vjp, r(2, 3), r(3, 2), r(2, 3), compiled=True),
    Case("custom_function", lambda T, x: first(
        T, lambda x: (custom_square(T).apply(x.sin()) * x).sum(), x), r(4)),
    Case("wgan_gp", wgan_gp, r(4, 3), r(4, 3), r(5, 3), r(5), r(1, 5), grad=(2, 3, 4),
         compiled=True),
    # -- torch.autograd.functional -----------------------------------------------------------
    Case("af_jacobian", lambda T, x, y: T.autograd.functional.jacobian(
        lambda x, y: (x.exp() * y.sum(), x @ y.reshape(3, 1)), (x, y), create_graph=True),
         r(2, 3), r(3)),
    Case("af_hessian", lambda T, x: T.autograd.functional.hessian(
        lambda x: (x.sin() * x.pow(3)).sum(), x, create_graph=True), r(3)),
    Case("af_hessian_two_inputs", lambda T, x, y: T.autograd.functional.hessian(
        lambda x, y: (x @ y).tanh().sum(), (x, y)), r(2, 3), r(3), grad=()),
    Case("af_vjp", lambda T, x, v: T.autograd.functional.vjp(
        lambda x: x.exp() @ x.T, x, v, create_graph=True), r(2, 3), r(2, 2)),
    Case("af_jvp", lambda T, x, v: T.autograd.functional.jvp(
        lambda x: (x.sin() * x.sum(), x.cos()), x, v, create_graph=True), r(4), r(4)),
    Case("af_hvp_vhp", lambda T, x, v: (
        T.autograd.functional.hvp(lambda x: (x.exp() * x.sin()).sum() * x.sum(), x, v,
                                  create_graph=True)
        + T.autograd.functional.vhp(lambda x: (x.exp() * x.sin()).sum() * x.sum(), x, v,
                                    create_graph=True)), r(4), r(4)),
    # -- torch.func --------------------------------------------------------------------------
    Case("func_grad_grad", lambda T, x: T.func.grad(
        lambda x: T.func.grad(lambda y: (y.sin() * y ** 2).sum())(x).sum())(x), r(4),
         compiled=True),
    Case("func_grad_argnums_aux", lambda T, x, w: T.func.grad(
        lambda x, w: ((x @ w).tanh().sum(), x.sum()), argnums=(0, 1), has_aux=True)(x, w),
         r(2, 3), r(3, 2)),
    Case("func_jacrev_hessian", lambda T, x: (
        T.func.jacrev(lambda x: x.sin() * x.sum())(x),
        T.func.hessian(lambda x: (x.exp() * x).sum() * x.sum())(x)), r(3)),
    Case("func_vjp_jvp", lambda T, x, v: (
        T.func.vjp(lambda x: x.tanh() * x, x)[1](v)[0],
        T.func.jvp(lambda x: x.tanh() * x.sum(), (x,), (v,))[1]), r(4), r(4)),
    Case("func_vmap_grad", lambda T, x, y: T.func.vmap(
        T.func.grad(lambda a, b: ((a * b).sin() * a).sum()), in_dims=(0, None))(x, y),
         r(3, 4), r(4)),
    Case("func_functional_call", lambda T, w, b, x: model_gradients(T, w, b, x), r(2, 3), r(2),
         r(4, 3)),
    Case("func_per_sample_grads", lambda T, w, b, x, y: per_sample_gradients(T, w, b, x, y),
         r(2, 3), r(2), r(5, 3), r(5, 2), grad=(0, 1)),
]
