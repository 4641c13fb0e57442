"""torch.autograd.functional's flags and errors (stepjit/autograd/functional.py); values,
and gradients through create_graph results, are checked against PyTorch's recording in
test_higher_order.py."""
import numpy as np
import pytest

import stepjit
from stepjit.autograd import functional as AF

X = np.array([0.4, -0.3, 1.2])


def t(a, **kw):
    return stepjit.tensor(np.asarray(a, dtype=np.float64), **kw)


def f(x):
    return (x.exp() * x.sin()).sum() * x.sum()


def hessian_of_f(x):
    e, s, c = np.exp(x), np.sin(x), np.cos(x)
    d1 = e * (s + c)            # d/dx e^x sin x
    d2 = 2 * e * c              # second derivative of e^x sin x
    g = (e * s).sum()
    return np.diag(d2 * x.sum()) + np.add.outer(d1, d1) + 0 * g


def test_results_are_detached_without_create_graph_and_inputs_untouched():
    x = t(X, requires_grad=True)
    for out in (AF.hessian(f, x), AF.jacobian(lambda a: a.sin(), x),
                AF.vjp(lambda a: a.sin(), x, t(X))[1], AF.jvp(lambda a: a.sin(), x, t(X))[1],
                AF.hvp(f, x, t(X))[1], AF.vhp(f, x, t(X))[1]):
        assert not out.requires_grad
    assert x.grad is None


def test_hessian_and_its_products_agree_with_the_closed_form():
    H = hessian_of_f(X)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(AF.hessian(f, t(X)).numpy(), H, rtol=1e-13)
    np.testing.assert_allclose(AF.hvp(f, t(X), t(v))[1].numpy(), H @ v, rtol=1e-13)
    np.testing.assert_allclose(AF.vhp(f, t(X), t(v))[1].numpy(), v @ H, rtol=1e-13)
    value, _ = AF.hvp(f, t(X), t(v))
    assert value.item() == pytest.approx(np.sum(np.exp(X) * np.sin(X)) * X.sum())


def test_create_graph_results_differentiate_to_the_callers_tensors():
    x = t(X, requires_grad=True)
    H = AF.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)   # diag(12 x^2)
    H.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 24 * X, rtol=1e-13)


def test_vectorize_and_forward_mode_strategy_give_the_same_jacobian():
    fn = lambda a: a.sin() * a.sum()   # noqa: E731
    J = AF.jacobian(fn, t(X))
    np.testing.assert_array_equal(AF.jacobian(fn, t(X), vectorize=True).numpy(), J.numpy())
    np.testing.assert_array_equal(
        AF.jacobian(fn, t(X), vectorize=True, strategy="forward-mode").numpy(), J.numpy())
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(fn, t(X), strategy="sideways")


def test_strict_refuses_independent_outputs():
    two = (t(X), t(X))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, two, strict=True)
    J = AF.jacobian(lambda a, b: a * 2, two)
    np.testing.assert_array_equal(J[1].numpy(), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: a * 2, two, t(X), strict=True)


def test_argument_errors():
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda a: a * 2, t(X))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        AF.jvp(lambda a: a * 2, t(X), t([1.0]))
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        AF.hessian(lambda a: a * 2, t(X))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda a: [a], t(X))
