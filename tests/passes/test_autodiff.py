"""The autodiff pass and the functional transforms: checked against eager tape gradients,
NumPy and finite differences, never against themselves."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.ir.interpreter import interpret
from stepjit.ir.verifier import verify
from stepjit.passes import autodiff


def _f(x, w):
    return ((x @ w).tanh() * x.sum(1, keepdim=True)).pow(2).mean()


def _inputs():
    torch.manual_seed(0)
    return torch.randn(4, 3, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)


def test_autodiff_pass_matches_eager_tape_and_fd():
    x, w = _inputs()
    g = torch.make_ir(_f)(x, w)
    dg = autodiff(g, g.outputs[0], [g.inputs[1]])
    verify(dg)
    (value, gw), _ = interpret(dg, [x.numpy(), w.numpy()])
    wl = w.detach().requires_grad_()
    loss = _f(x, wl)
    loss.backward()
    assert value == loss.item()
    np.testing.assert_allclose(gw, wl.grad.numpy(), rtol=1e-10)
    assert torch.autograd.gradcheck(lambda w: _f(x, w), (wl,))


def test_autodiff_derives_only_what_is_needed():
    x, w = _inputs()
    g = torch.make_ir(lambda x, w: (x @ w).sum())(x, w)
    dg = autodiff(g, g.outputs[0], [g.inputs[1]])
    matmuls = [n for n in dg.nodes if n.prim.name == "matmul"]
    assert len(matmuls) == 2          # forward, and x.T @ g; nothing for x


def test_grad_and_value_and_grad_eager_and_compiled():
    x, w = _inputs()
    wl = w.detach().requires_grad_()
    _f(x, wl).backward()
    g_eager = torch.grad(_f, argnums=1)(x, w)
    np.testing.assert_allclose(g_eager.numpy(), wl.grad.numpy(), rtol=1e-12)
    compiled = torch.compile(torch.value_and_grad(_f, argnums=(0, 1)), backend="interpret")
    value, (gx, gw) = compiled(x, w)
    np.testing.assert_allclose(gw.numpy(), wl.grad.numpy(), rtol=1e-12)
    assert value.item() == _f(x, w).item()
    assert not x.requires_grad and w.grad is None       # callers' tensors untouched


def test_grad_has_aux_and_errors():
    x, w = _inputs()
    g, aux = torch.grad(lambda w: (_f(x, w), "aux"), has_aux=True)(w)
    assert aux == "aux" and g.shape == w.shape
    with pytest.raises(TypeError, match="scalar"):
        torch.grad(lambda w: x @ w)(w)


def test_grad_nests_and_sees_closures_eager_and_compiled():
    # grad(grad(f)) is the second derivative; a closure's tensor differentiated by an outer
    # grad carries its history through the inner one (JAX's and functorch's semantics)
    x = torch.tensor([0.3, -0.8, 1.2], dtype=torch.float64)
    xs = x.numpy()
    d2 = torch.grad(lambda v: torch.grad(lambda u: (u.sin() * u).sum())(v).sum())
    want = 2 * np.cos(xs) - xs * np.sin(xs)
    np.testing.assert_allclose(d2(x).numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(torch.compile(d2, backend="interpret")(x).numpy(), want,
                               rtol=1e-13)
    outer = torch.grad(lambda w: torch.grad(lambda u: (u * w).pow(2).sum())(x).sum())
    np.testing.assert_allclose(outer(x).numpy(), 4 * xs * xs, rtol=1e-13)   # d/dw 2uw^2
