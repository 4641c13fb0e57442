"""Edge values where stepjit used to give silently wrong numbers, eagerly and compiled.

Expected values are PyTorch 2.13's (noted beside each); CI has no PyTorch, so they are
written here. Each case runs eagerly and through `stepjit.compile` on the interpret
backend, and the cheap ones on the cpu backend too (kernels are shared through the
on-disk cache, shapes kept tiny).
"""
import math

import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F

INF, NAN = math.inf, math.nan
BACKENDS = ["eager", "interpret", "cpu"]


def run(fn, backend, *args):
    if backend == "eager":
        return fn(*args)
    return stepjit.compile(fn, backend=backend)(*args)


def grad_of(fn, x, backend):
    """fn(x) -> scalar; returns (value, x.grad) from one backward."""
    x = stepjit.tensor(x, requires_grad=True)

    def step(x):
        out = fn(x)
        out.backward()
        return out

    out = run(step, backend, x)
    return out.item(), x.grad.numpy()


# -- integer paths keep every bit --------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_int64_floor_division_is_exact(backend):
    x = stepjit.tensor([16777217, 33554435, -7, 7, 2 ** 53 + 1])
    out = run(lambda x: x // 2 + x // 1, backend, x)
    assert out.dtype is stepjit.int64
    want = [16777217 // 2 + 16777217, 33554435 // 2 + 33554435, -4 - 7, 3 + 7,
            (2 ** 53 + 1) // 2 + 2 ** 53 + 1]
    assert out.tolist() == want


def test_div_rounding_modes_on_integers_stay_integer():
    a = stepjit.tensor([7, -7, 7, -7, 16777217])
    b = stepjit.tensor([2, 2, -2, -2, 1])
    assert stepjit.div(a, b, rounding_mode="floor").tolist() == [3, -4, -4, 3, 16777217]
    trunc = stepjit.div(a, b, rounding_mode="trunc")
    assert trunc.dtype is stepjit.int64
    assert trunc.tolist() == [3, -3, -3, 3, 16777217]
    with pytest.raises(ValueError, match="rounding_mode"):
        stepjit.div(a, b, rounding_mode="round")


def test_float_floor_division_is_pythons():
    # PyTorch: tensor(1.) // 0.1 == 9 (floor(1 / 0.1) would be 10)
    assert (stepjit.tensor([1.0], dtype=stepjit.float64) // 0.1).tolist() == [9.0]
    assert (stepjit.tensor([-7.0]) // 2).tolist() == [-4.0]
    x = stepjit.tensor([7.0], requires_grad=True)
    y = x // 2
    assert type(y.grad_fn).__name__ == "DivBackward2"
    y.sum().backward()
    assert x.grad.tolist() == [0.0]


@pytest.mark.parametrize("backend", ["eager", "cpu"])
def test_integer_arithmetic_has_no_float_round_trip(backend):
    """Audit: every integer op of the registry on values past float32's and float64's
    integer range gives NumPy's int64 result."""
    big = np.array([2 ** 53 + 1, -(2 ** 40) - 3, 16777217, 3], np.int64)
    x, y = stepjit.tensor(big), stepjit.tensor(np.array([3, 2, -5, 7], np.int64))

    def step(x, y):
        return (x + y, x - y, x * y, -x, abs(x), x // y, stepjit.maximum(x, y),
                stepjit.minimum(x, y), x.sign(), x.sum(), x.amax(), x.clamp(min=5),
                stepjit.where(x > y, x, y), x.pow(1), x.clone())

    got = run(step, backend, x, y)
    a, b = big, np.array([3, 2, -5, 7], np.int64)
    want = (a + b, a - b, a * b, -a, np.abs(a), a // b, np.maximum(a, b), np.minimum(a, b),
            np.sign(a), a.sum(), a.max(), np.maximum(a, 5), np.where(a > b, a, b), a, a)
    for g, w in zip(got, want):
        assert g.dtype is stepjit.int64
        np.testing.assert_array_equal(g.numpy(), w)


# -- losses ------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [-1, -2, 3])
def test_class_index_out_of_range_raises(loss, bad):
    # PyTorch: IndexError "Target -1 is out of bounds." (never a wrapped-around class)
    logits = stepjit.tensor([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    with pytest.raises((IndexError, RuntimeError), match=rf"(index|Target) {bad} is out of bounds"):
        getattr(F, loss)(logits, stepjit.tensor([0, bad]))


def test_ignore_index_default_and_custom():
    logits = stepjit.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    # PyTorch: 2.4076 (the -100 row ignored), and 0.4076 with ignore_index=0
    assert F.cross_entropy(logits, stepjit.tensor([0, -100])).item() == pytest.approx(2.4076, abs=1e-4)
    assert F.cross_entropy(logits, stepjit.tensor([0, 2]), ignore_index=0).item() \
        == pytest.approx(0.4076, abs=1e-4)
    assert F.nll_loss(logits, stepjit.tensor([-5, 1]), ignore_index=-5).item() == -2.0


def test_gather_rejects_negative_indices_like_pytorch():
    x = stepjit.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1 with size 2"):
        stepjit.gather(x, 1, stepjit.tensor([[0], [-1]]))
    # plain indexing still counts from the end, as in PyTorch
    assert x[stepjit.tensor([-1])].tolist() == [[3.0, 4.0]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bce_clamps_its_log_and_gradient_like_pytorch(backend):
    # float64 (float32's sigmoid(-90) is 0 in PyTorch and a denormal here: docs/edge_cases.md)
    z = np.array([-90.0, -28.0, -30.0, 28.0, 30.0, 0.5])
    y = stepjit.tensor([1.0, 0, 1, 0, 1, 1], dtype=stepjit.float64)
    value, grad = grad_of(lambda z: F.binary_cross_entropy(z.sigmoid(), y), z, backend)
    # PyTorch 2.13, float64
    assert value == pytest.approx(24.745677836817364, rel=1e-12)
    np.testing.assert_allclose(grad, [-1.365668776122029e-28, 7.968154838298431e-14,
                                      -0.015596038343714605, 0.11524115041641278,
                                      -1.4564426693849107e-15, -0.0629234447996909], rtol=1e-7)


def test_bce_at_exact_zero_and_one_float32():
    # PyTorch: loss 100 where the log is clamped, gradient (x - y) / 1e-12 there
    x = stepjit.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = stepjit.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, y, reduction="sum")
    loss.backward()
    assert loss.item() == 200.0
    np.testing.assert_allclose(x.grad.numpy(), [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)


def test_bce_rejects_inputs_outside_unit_interval():
    for bad in (1.5, -0.1, NAN):
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            F.binary_cross_entropy(stepjit.tensor([0.5, bad]), stepjit.tensor([1.0, 0.0]))


# -- reductions ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_logsumexp_of_infinite_rows(backend):
    x = stepjit.tensor([[1.0, INF], [-INF, -INF], [0.0, 0.0]])
    out = run(lambda x: x.logsumexp(1), backend, x)
    assert out.tolist()[:2] == [INF, -INF]   # PyTorch: [inf, -inf, log 2]
    assert out.tolist()[2] == pytest.approx(math.log(2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_norm_gradient_at_zero_is_zero(backend):
    value, grad = grad_of(lambda x: x.norm(), np.zeros(3, np.float32), backend)
    assert value == 0.0 and grad.tolist() == [0.0, 0.0, 0.0]   # PyTorch: 0, not nan
    value, grad = grad_of(lambda x: x.norm(), np.array([3.0, 4.0], np.float32), backend)
    assert value == 5.0
    np.testing.assert_allclose(grad, [0.6, 0.8])


@pytest.mark.parametrize("backend", ["eager", "interpret"])
def test_nan_gradients_follow_pytorch(backend):
    # PyTorch 2.13: relu'(nan) = 1, maximum passes the gradient to a NaN operand (and to the
    # other), max() of [nan, 1, 2] puts the whole gradient on the NaN.
    _, g = grad_of(lambda x: x.relu().sum(), [NAN, 1.0, -1.0], backend)
    assert g.tolist() == [1.0, 1.0, 0.0]
    zero = stepjit.tensor([0.0, 0.0])
    _, g = grad_of(lambda x: stepjit.maximum(x, zero).sum(), [NAN, 1.0], backend)
    assert g.tolist() == [1.0, 1.0]
    _, g = grad_of(lambda x: stepjit.minimum(x, zero).sum(), [NAN, 1.0], backend)
    assert g.tolist() == [1.0, 0.0]
    _, g = grad_of(lambda x: x.max(), [NAN, 1.0, 2.0], backend)
    assert g.tolist() == [1.0, 0.0, 0.0]
    _, g = grad_of(lambda x: x.amin(), [1.0, NAN, NAN], backend)
    assert g.tolist() == [0.0, 0.5, 0.5]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_of_nan_is_zero(backend):
    x = stepjit.tensor([NAN, -0.0, 0.0, -2.0, 3.0])
    out = run(lambda x: x.sign(), backend, x).numpy()
    assert out.tolist() == [0.0, 0.0, 0.0, -1.0, 1.0]
    assert not np.signbit(out[1])   # PyTorch: sign(-0.0) is +0.0


# -- views ----------------------------------------------------------------------------------
def test_view_of_a_transpose_raises_like_pytorch():
    x = stepjit.randn(2, 3)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(-1)
    assert not x.t().is_contiguous() and x.is_contiguous()
    flat = x.t().contiguous().view(-1)
    np.testing.assert_array_equal(flat.numpy(), x.numpy().T.reshape(-1))
    assert x.t().reshape(-1).shape == (6,)
    v = x[:, 1:].view(2, 2) if False else x.view(3, 2)   # a contiguous view still shares storage
    v[0, 0] = 42.0
    assert x[0, 0].item() == 42.0


def test_contiguous_copy_keeps_the_gradient():
    x = stepjit.randn(2, 3, requires_grad=True)
    y = x.t().contiguous()
    assert type(y.grad_fn).__name__ == "CloneBackward0"
    (y.view(-1) * stepjit.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)


# -- 0-d tensors take dim 0 / -1 ------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dim_reductions_accept_dim_0(dim):
    t = stepjit.tensor(3.0)
    assert t.sum(dim).item() == 3.0 and t.sum(dim).shape == ()
    assert stepjit.softmax(t, dim).item() == 1.0
    assert F.log_softmax(t, dim).item() == 0.0
    assert t.mean(dim).item() == 3.0 and t.amax(dim).item() == 3.0
    assert t.argmax(dim).item() == 0 and t.logsumexp(dim).item() == 3.0
    assert t.sum(dim, keepdim=True).shape == ()
    with pytest.raises(RuntimeError, match="out of range"):
        t.sum(1)


# -- the interpret backend is eager, bit for bit --------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_interpret_backend_is_bitwise_eager_after_a_masked_write(seed):
    """Eagerly `d[d > 0] = 0.25` writes into d's own (column-major) buffer; the functional
    index_put of a trace must keep that layout, or the mean sums in another order (the
    issue's program, whose gather result was column-major, was 1 ulp off on 12 of 40 seeds)."""
    rng = np.random.default_rng(seed)
    x = stepjit.tensor(rng.standard_normal((64, 32)).astype(np.float32))
    g = stepjit.tensor(rng.standard_normal((64, 16)).astype(np.float32))
    w0, b0 = rng.standard_normal((32, 16)).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    got = []
    for backend in ("eager", "interpret"):
        w = stepjit.tensor(w0.copy(), requires_grad=True)
        b = stepjit.tensor(b0.copy(), requires_grad=True)

        def step(x, g):
            v4 = x @ w + b
            c = v4[:, [0, 0]].clone()    # the program as it was found
            c[c > 0] = 0.5
            d = v4[:, :2].t().clone()    # a column-major clone, written through a mask
            d[d > 0] = 0.25
            loss = (v4 * g).pow(2).mean() * 0.01 + c.pow(2).mean() + d.pow(2).mean()
            loss.backward()
            return loss

        loss = run(step, backend, x, g)
        got.append((loss.detach().numpy().tobytes(), w.grad.numpy().tobytes(),
                    b.grad.numpy().tobytes()))
    assert got[0] == got[1]
