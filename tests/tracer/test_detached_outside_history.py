"""A tensor made outside the step with autograd history that the step only uses detached (d2l's
style transfer: content and style targets computed by a network whose parameters require grad,
`(Y_hat - Y.detach())` in the loss) is a plain input: the step's backward does not reach its
history, so the step compiles. It ran eagerly, warning that its backward reached the target.
A step whose backward does reach such a tensor still runs eagerly
(tests/runtime/test_compiled_forward.py)."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit import nn


def _setup():
    torch.manual_seed(0)
    features = nn.Linear(3, 4)                   # parameters require grad, as d2l's VGG's do
    target = features(torch.randn(5, 3))         # history from outside the step
    image = nn.Parameter(torch.randn(5, 3))
    opt = torch.optim.Adam([image], lr=0.1)

    def step():
        opt.zero_grad()
        loss = ((features(image) - target.detach()) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return features, image, step


def _run(compiled):
    features, image, step = _setup()
    if compiled:
        step = torch.compile(step, backend="interpret")
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no "runs eagerly" warning
        losses = [float(step()) for _ in range(3)]
    return losses, image.detach().numpy().copy(), features.weight.grad.clone(), step


def test_a_detached_outside_target_compiles_and_matches_eager():
    eager, image_e, grad_e, _ = _run(False)
    got, image_c, grad_c, compiled = _run(True)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and stats["eager_calls"] == 0 and stats["traces"] >= 1
    np.testing.assert_allclose(got, eager, rtol=1e-6)
    np.testing.assert_allclose(image_c, image_e, rtol=1e-6)
    np.testing.assert_allclose(grad_c.numpy(), grad_e.numpy(), rtol=1e-6)   # (through features(image))


def test_an_outside_tensor_the_backward_reaches_still_runs_eagerly():
    torch.manual_seed(0)
    lin = nn.Linear(3, 3)
    h = lin(torch.randn(2, 3))
    w = torch.randn(3, 1, requires_grad=True)

    def step(h):
        loss = (h.detach() @ w).sum() + h.sum()  # one use detached, one reaching lin
        loss.backward()
        return loss

    with pytest.warns(UserWarning, match="autograd history from outside the step"):
        torch.compile(step, backend="interpret")(h)
    assert lin.weight.grad is not None
