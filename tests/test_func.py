"""torch.func (stepjit/func.py): structure, nesting, composition with autograd and errors.
Values of second derivatives and of the transforms over models are checked against PyTorch's
recording in tests/autograd/test_higher_order.py; here against NumPy and closed forms."""
import numpy as np
import pytest

import stepjit
from stepjit import func

X = np.array([0.3, -0.7, 1.1])


def t(a, **kw):
    return stepjit.tensor(np.asarray(a, dtype=np.float64), **kw)


def test_grad_nests_to_higher_derivatives():
    f = lambda x: (x.sin() * x ** 2).sum()   # noqa: E731
    d1 = func.grad(f)(t(X))
    d2 = func.grad(lambda x: func.grad(f)(x).sum())(t(X))
    d3 = func.grad(lambda x: func.grad(lambda y: func.grad(f)(y).sum())(x).sum())(t(X))
    s, c = np.sin(X), np.cos(X)
    np.testing.assert_allclose(d1.numpy(), 2 * X * s + X ** 2 * c, rtol=1e-13)
    np.testing.assert_allclose(d2.numpy(), 2 * s + 4 * X * c - X ** 2 * s, rtol=1e-13)
    np.testing.assert_allclose(d3.numpy(), 6 * c - 6 * X * s - X ** 2 * c, rtol=1e-12)
    assert not (d1.requires_grad or d2.requires_grad or d3.requires_grad)


def test_grad_argnums_has_aux_and_pytrees():
    def f(p, x):
        return (p["w"] * x).sum() + p["b"][0] ** 2, x.sum()
    p = {"w": t([1.0, 2.0, 3.0]), "b": t([0.5])}
    g, aux = func.grad(f, has_aux=True)(p, t(X))
    np.testing.assert_allclose(g["w"].numpy(), X)
    np.testing.assert_allclose(g["b"].numpy(), [1.0])
    assert aux.item() == pytest.approx(X.sum())
    (gp, gx), (value, aux) = func.grad_and_value(f, argnums=(0, 1), has_aux=True)(p, t(X))
    np.testing.assert_allclose(gx.numpy(), [1.0, 2.0, 3.0])
    assert value.item() == pytest.approx((np.array([1, 2, 3]) * X).sum() + 0.25)
    assert not p["w"].requires_grad   # the caller's tensors are untouched


def test_grad_composes_with_autograd_through_closures_and_arguments():
    w = t([1.0, -2.0, 0.5], requires_grad=True)
    g = func.grad(lambda x: (x * w).sum() * x.sum())(t(X))   # w * sum(x) + sum(x * w)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), X.sum() + 3 * X)
    x = t(X, requires_grad=True)
    (func.grad(lambda y: (y ** 3).sum())(x)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    with stepjit.no_grad():
        assert not func.grad(lambda y: (y * w).sum())(t(X)).requires_grad


def test_grad_errors():
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        func.grad(lambda x: x * 2)(t(X))
    with pytest.raises(RuntimeError, match="argnums"):
        func.grad(lambda x: x.sum(), argnums=2)(t(X))
    with pytest.raises(RuntimeError, match="floating-point"):
        func.grad(lambda x: x.sum())(stepjit.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="\\(output, aux\\)"):
        func.grad(lambda x: x.sum(), has_aux=True)(t(X))


def test_vjp_and_jvp_against_closed_forms():
    out, fn = func.vjp(lambda x, y: x.sin() * y, t(X), t([2.0, 3.0, 4.0]))
    gx, gy = fn(t([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(out.numpy(), np.sin(X) * [2, 3, 4])
    np.testing.assert_allclose(gx.numpy(), np.cos(X) * [2, 3, 4])
    np.testing.assert_allclose(gy.numpy(), np.sin(X))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        fn(t([1.0]))
    v = np.array([0.5, -1.0, 2.0])
    out, jv = func.jvp(lambda x: x.exp() * x.sum(), (t(X),), (t(v),))
    J = np.diag(np.exp(X) * X.sum()) + np.outer(np.exp(X), np.ones(3))
    np.testing.assert_allclose(jv.numpy(), J @ v, rtol=1e-13)
    with pytest.raises(RuntimeError, match="same shape"):
        func.jvp(lambda x: x, (t(X),), (t([1.0]),))


def test_jacrev_jacfwd_hessian_structure():
    f = lambda x, y: (x[:, None] * y[None, :]).sin()   # noqa: E731
    y = np.array([0.2, 0.4])
    jx, jy = func.jacrev(f, argnums=(0, 1))(t(X), t(y))
    assert tuple(jx.shape) == (3, 2, 3) and tuple(jy.shape) == (3, 2, 2)
    c = np.cos(X[:, None] * y[None, :])
    np.testing.assert_allclose(np.einsum("iji->ij", jx.numpy()), c * y[None, :])
    np.testing.assert_allclose(func.jacfwd(f)(t(X), t(y)).numpy(), jx.numpy())
    H = func.hessian(lambda x: (x ** 3).sum() * x[0])(t(X))
    want = np.diag(6 * X * X[0])
    want[0, :] += 3 * X ** 2
    want[:, 0] += 3 * X ** 2
    np.testing.assert_allclose(H.numpy(), want, rtol=1e-13)


def test_vmap_dims_and_structures():
    a = np.arange(12.0).reshape(3, 4)
    got = func.vmap(lambda r: r.sum())(t(a))
    np.testing.assert_allclose(got.numpy(), a.sum(1))
    got = func.vmap(lambda c, s: c * s, in_dims=(1, None))(t(a), t([2.0]))
    np.testing.assert_allclose(got.numpy(), a.T * 2)
    got = func.vmap(lambda r: r * 2, out_dims=1)(t(a))
    np.testing.assert_allclose(got.numpy(), (a * 2).T)
    d = func.vmap(lambda p: {"s": p["x"].sum(), "m": p["x"].max()}, in_dims=({"x": 0},))(
        {"x": t(a)})
    np.testing.assert_allclose(d["s"].numpy(), a.sum(1))
    nested = func.vmap(func.vmap(lambda v: v * v))(t(a))
    np.testing.assert_allclose(nested.numpy(), a * a)
    per_row = func.vmap(func.jacrev(lambda r: r.sin()))(t(a[:, :2]))
    assert tuple(per_row.shape) == (3, 2, 2)
    np.testing.assert_allclose(per_row.numpy()[:, 1, 1], np.cos(a[:, 1]))
    assert stepjit.vmap is func.vmap


def test_vmap_errors():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        func.vmap(lambda x, y: x + y)(t(np.ones((2, 3))), t(np.ones((3, 3))))
    with pytest.raises(ValueError, match="in_dims"):
        func.vmap(lambda x: x, in_dims=(0, 0))(t(np.ones(2)))
    with pytest.raises(ValueError, match="must return tensors"):
        func.vmap(lambda x: "no")(t(np.ones(2)))
    with pytest.raises(NotImplementedError, match="randomness='same'"):
        func.vmap(lambda x: x, randomness="same")


def test_model_ensemble_by_stack_module_state_and_vmap():
    stepjit.manual_seed(0)
    models = [stepjit.nn.Linear(3, 2).double() for _ in range(4)]
    params, buffers = func.stack_module_state(models)
    assert tuple(params["weight"].shape) == (4, 2, 3) and params["weight"].requires_grad
    assert params["weight"].is_leaf and buffers == {}
    x = np.linspace(-1, 1, 15).reshape(5, 3)

    def call(p, b, x):
        return func.functional_call(models[0], (p, b), (x,))
    out = func.vmap(call, in_dims=(0, 0, None))(params, buffers, t(x))
    want = np.stack([x @ m.weight.detach().numpy().T + m.bias.detach().numpy() for m in models])
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-13)
    out.sum().backward()   # gradients reach the stacked leaves
    np.testing.assert_allclose(params["bias"].grad.numpy(), np.full((4, 2), 5.0))


def test_an_inner_transform_over_a_closure_of_the_outer_one():
    # the inner grad's leaves hang in its result's history; the outer grad must neither keep
    # the result's history nor lose the closure's derivative (d/dw sum(2 x w^2) = 4 x w)
    x = t(X)
    g = func.grad(lambda w: func.grad(lambda u: (u * w).pow(2).sum())(x).sum())(x)
    np.testing.assert_allclose(g.numpy(), 4 * X * X, rtol=1e-13)
    assert not g.requires_grad
    J = func.jacrev(lambda w: func.vjp(lambda u: u * w.sin(), x)[1](x)[0])(x)
    np.testing.assert_allclose(J.numpy(), np.diag(X * np.cos(X)), rtol=1e-13)
