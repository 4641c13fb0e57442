"""autograd.functional.jacobian / vjp against central finite differences (NumPy) and a live
PyTorch where installed; nesting and shapes as PyTorch's."""
import numpy as np
import pytest

import stepjit
from stepjit.autograd.functional import jacobian, vjp

RNG = np.random.default_rng(3)
A, B = RNG.standard_normal((2, 3)), RNG.standard_normal(3)


def f_one(T, x):
    return (x.exp() * x.sum()).tanh()


def f_two(T, a, b):
    return a @ b.sin(), (a * a).sum()


def numeric(fn, arrays, j, eps=1e-6):
    """d fn / d arrays[j] by central differences: shape out.shape + in.shape."""
    base = np.asarray(fn(*arrays))
    jac = np.zeros(base.shape + arrays[j].shape)
    for idx in np.ndindex(arrays[j].shape):
        hi = [a.copy() for a in arrays]
        lo = [a.copy() for a in arrays]
        hi[j][idx] += eps
        lo[j][idx] -= eps
        jac[(...,) + idx] = (np.asarray(fn(*hi)) - np.asarray(fn(*lo))) / (2 * eps)
    return jac


def test_jacobian_of_one_input_and_output_is_a_tensor():
    x = stepjit.tensor(B)
    J = jacobian(lambda t: f_one(stepjit, t), x)
    want = numeric(lambda a: np.tanh(np.exp(a) * a.sum()), [B], 0)
    assert isinstance(J, stepjit.Tensor) and tuple(J.shape) == (3, 3)
    np.testing.assert_allclose(J.numpy(), want, rtol=1e-6, atol=1e-8)
    assert not x.requires_grad   # the inputs are not changed


def test_jacobian_nests_outputs_then_inputs():
    J = jacobian(lambda a, b: f_two(stepjit, a, b), (stepjit.tensor(A), stepjit.tensor(B)))
    assert tuple(J[0][0].shape) == (2, 2, 3) and tuple(J[0][1].shape) == (2, 3)
    assert tuple(J[1][0].shape) == (2, 3) and tuple(J[1][1].shape) == (3,)
    np.testing.assert_allclose(J[0][1].numpy(), numeric(lambda a, b: a @ np.sin(b), [A, B], 1),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(J[1][0].numpy(), 2 * A, rtol=1e-12)
    np.testing.assert_array_equal(J[1][1].numpy(), np.zeros(3))   # independent: zeros


def test_strict_refuses_an_independent_input():
    with pytest.raises(RuntimeError, match="independent"):
        jacobian(lambda a, b: a * 2, (stepjit.tensor(B), stepjit.tensor(B)), strict=True)


def test_vjp_returns_output_and_product():
    out, g = vjp(lambda a: (a * a).sum(), stepjit.tensor(B))
    assert out.item() == pytest.approx((B * B).sum())
    np.testing.assert_allclose(g.numpy(), 2 * B)
    v = stepjit.tensor(RNG.standard_normal(2))
    _, (ga, gb) = vjp(lambda a, b: a @ b, (stepjit.tensor(A), stepjit.tensor(B)), v)
    np.testing.assert_allclose(ga.numpy(), np.outer(v.numpy(), B), rtol=1e-12)
    np.testing.assert_allclose(gb.numpy(), v.numpy() @ A, rtol=1e-12)


def test_live_pytorch_agrees():
    torch = pytest.importorskip("torch")
    got = jacobian(lambda a, b: f_two(stepjit, a, b), (stepjit.tensor(A), stepjit.tensor(B)))
    want = torch.autograd.functional.jacobian(lambda a, b: f_two(torch, a, b),
                                              (torch.tensor(A), torch.tensor(B)))
    for gi, wi in zip(got, want):
        for g, w in zip(gi, wi):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-14)
