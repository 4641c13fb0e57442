"""loss.backward() inside a trace: only what is needed is derived, and the cuts eager makes
(no_grad, detach, non-differentiable outputs) are made in the IR too."""
import numpy as np
import pytest

import stepjit as torch
from tests.runtime.programs import MyReLU


def _two_layer():
    torch.manual_seed(0)
    x, y = torch.randn(8, 10), torch.randn(8, 3)
    w1 = torch.randn(10, 5, requires_grad=True)
    w2 = torch.randn(5, 3, requires_grad=True)

    def step(x, y):
        loss = (MyReLU.apply(x.mm(w1)).mm(w2) - y).pow(2).sum()
        loss.backward()
        return loss
    return step, x, y


def test_no_gradient_for_inputs_that_do_not_require_it():
    step, x, y = _two_layer()
    g = torch.make_ir(step)(x, y)
    matmuls = [n for n in g.nodes if n.prim.name == "matmul"]
    # 2 forward, dW2 = h.T @ g, dh = g @ W2.T, dW1 = x.T @ dh; a gradient for x would be a 6th
    assert len(matmuls) == 5
    assert not any(n.out.shape == tuple(x.shape) for n in g.nodes if n.prim.name == "matmul")


def test_no_grad_detach_and_integer_outputs_cut_the_graph():
    w = torch.ones(3, requires_grad=True)

    def step(x):
        with torch.no_grad():
            scale = (w * 2).sum()          # no backward through this
        frozen = (w * 3).detach()          # nor through this
        idx = (w * x).argmax()             # integer: not differentiable
        loss = (w * x * scale + frozen).sum() + (w * x)[idx]
        loss.backward()
        return loss

    x = torch.tensor([1.0, 3.0, 2.0])
    w_saved = w
    c = torch.compile(step, backend="interpret")
    c(x)
    compiled_grad = w_saved.grad.numpy().copy()
    w_saved.grad = None
    step(x)
    np.testing.assert_array_equal(compiled_grad, w_saved.grad.numpy())


def test_backward_errors_inside_a_trace_are_eager_errors():
    w = torch.ones(2, requires_grad=True)

    def twice(x):
        loss = (w * x).exp().sum()
        loss.backward()
        loss.backward()                  # the graph was freed

    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        torch.compile(twice, backend="interpret")(torch.ones(2))

    def not_scalar(x):
        (w * x).backward()

    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        torch.compile(not_scalar, backend="interpret")(torch.ones(2))
    assert w.grad is None                 # a failed trace leaves the tensors as they were


def test_backward_with_gradient_argument():
    w = torch.ones(3, requires_grad=True)

    def step(x, seed):
        (w * x).backward(gradient=seed)
        return w.grad * 1

    c = torch.compile(step, backend="interpret")
    out = c(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.5, 2.0]))
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 6.0])
