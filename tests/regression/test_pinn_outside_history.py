"""A physics-informed network's training step (Raissi's Burgers PINN, as ports to PyTorch write
it): the collocation inputs x, t are made once before training with
`torch.tensor(X, requires_grad=True).float()`, so they carry autograd history (a cast of a
float64 leaf); the step takes u_x, u_t, u_xx with `autograd.grad(..., create_graph=True)` and
then calls `loss.backward()`, which eagerly carries the inputs' gradients on into the float64
leaves. A compiled program cannot reach that outside history: the step must run eagerly with a
warning naming the tensor and the backward's line (it raised a TraceError), with eager's
results; with leaf inputs the same step compiles and matches eager."""
import numpy as np
import pytest

import stepjit as torch

NU = 0.01 / np.pi


def _problem(leaf_inputs):
    torch.manual_seed(0)
    g = np.random.default_rng(0)
    X = g.uniform(-1, 1, (16, 1))
    T = g.uniform(0, 1, (16, 1))
    if leaf_inputs:
        x = torch.tensor(X).float().requires_grad_()
        t = torch.tensor(T).float().requires_grad_()
        roots = (x, t)
    else:
        roots = (torch.tensor(X, requires_grad=True), torch.tensor(T, requires_grad=True))
        x, t = (r.float() for r in roots)     # non-leaves: history from outside the step
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    u_data = torch.tensor(-np.sin(np.pi * X), dtype=torch.float32)

    def step():
        opt.zero_grad()
        u = net(torch.cat([x, t], dim=1))
        ones = torch.ones_like(u)
        u_x = torch.autograd.grad(u, x, grad_outputs=ones, create_graph=True)[0]
        u_t = torch.autograd.grad(u, t, grad_outputs=ones, create_graph=True)[0]
        u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x),
                                   create_graph=True)[0]
        f = u_t + u * u_x - NU * u_xx
        loss = torch.mean((u - u_data) ** 2) + torch.mean(f ** 2)
        loss.backward()
        opt.step()
        return loss

    return step, net, roots


def _run(compiled, leaf_inputs, calls=3):
    step, net, roots = _problem(leaf_inputs)
    fn = torch.compile(step, backend="interpret") if compiled else step
    losses = [float(fn()) for _ in range(calls)]
    grads = [None if r.grad is None else r.grad.numpy().copy() for r in roots]
    return losses, [p.detach().numpy().copy() for p in net.parameters()], grads, fn


def _same(a, b):
    for la, lb in zip(a[0], b[0]):
        assert la == pytest.approx(lb, rel=1e-6)
    for pa, pb in zip(a[1] + a[2], b[1] + b[2]):
        assert (pa is None) == (pb is None)
        if pa is not None:
            np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-7)


def test_inputs_with_outside_history_run_eagerly_with_the_reason():
    eager = _run(False, leaf_inputs=False)
    assert all(g is not None for g in eager[2])   # eager reached the float64 leaves
    with pytest.warns(UserWarning, match=r"runs eagerly: its backward\(\) at "
                      r"test_pinn_outside_history.py:\d+ \(`loss.backward\(\)`\) reaches .*"
                      r"shape \[16, 1\], grad_fn=ToCopyBackward0.*leaf"):
        compiled = _run(True, leaf_inputs=False)
    _same(compiled, eager)
    assert compiled[3].stats()["mode"] == "eager"


def test_leaf_inputs_compile_and_match_eager():
    eager = _run(False, leaf_inputs=True)
    compiled = _run(True, leaf_inputs=True)
    _same(compiled, eager)
    assert compiled[3].stats()["mode"] == "tree"
