"""Higher-order gradients (tests/autograd/higher_cases.py): PyTorch's recorded values and
second/third derivatives, finite differences of the first derivatives (float64), a live
PyTorch where installed, and compiled steps that differentiate twice against eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.autograd.higher_cases import CASES
from tests.fixtures import checks, oracle
from tests.ir.test_registry import numeric_vjp


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "higher" / "torch_higher.npz"

    def by_differences(self, case):
        # central differences of float32 first derivatives resolve nothing at second order:
        # the float32 case is checked against PyTorch's float32 recording only
        return bool(case.grad) and case.inputs[0].dtype == np.float64

    # The shared checks read outputs and .grad with .numpy(); here they keep their history
    # (create_graph), so these two read them detached.
    def test_gradients_match_finite_differences(self, fd_case):
        second_derivatives_by_differences(fd_case)

    def test_compiled_matches_eager(self, compiled_case):
        compiled_step_matches_eager(compiled_case)


def _detached_outputs(case, arrays):
    c = oracle.Case(case.name, case.fn, *arrays, grad=case.grad)
    outs = oracle.outputs(c.fn(stepjit, *oracle.tensors(stepjit, c)))
    return [o.detach() for o in outs]


def second_derivatives_by_differences(case):
    """The recorded kind of gradient (of the cotangent loss over the case's first derivatives)
    against central differences of those first derivatives, float64."""
    got = oracle.run(stepjit, case)
    outs = _detached_outputs(case, case.inputs)
    live = [i for i, o in enumerate(oracle.outputs(case.fn(stepjit, *oracle.tensors(stepjit, case))))
            if o.requires_grad]
    cot = np.concatenate([oracle.cotangent(case.name, i, tuple(outs[i].shape)).ravel()
                          for i in live])

    def value(arrays):
        outs = _detached_outputs(case, arrays)
        return np.concatenate([outs[i].numpy().ravel() for i in live])

    for i in case.grad:
        numeric = numeric_vjp(value, list(case.inputs), i, cot, 1e-6)
        np.testing.assert_allclose(got[f"grad{i}"], numeric, rtol=1e-6, atol=1e-6,
                                   err_msg=f"{case.name}: derivative of input {i}")


def compiled_step_matches_eager(case):
    """A compiled step that runs the case (derivatives with create_graph) and backpropagates
    the cotangent loss through them, against the same step eagerly: values and .grad."""
    def step(*ts):
        outs = oracle.outputs(case.fn(stepjit, *ts))
        loss = sum((o * stepjit.from_numpy(oracle.cotangent(case.name, i, tuple(o.shape)))).sum()
                   for i, o in enumerate(outs) if o.requires_grad)
        loss.backward()
        return tuple(o.detach() for o in outs)

    compiled = stepjit.compile(step)
    results = []
    for run in (step, compiled, compiled):   # eager, the tracing call, a cached call
        ts = oracle.tensors(stepjit, case)
        outs = run(*ts)
        results.append([o.numpy() for o in outs]
                       + [ts[i].grad.detach().numpy() for i in case.grad])
    for got in results[1:]:
        assert len(got) == len(results[0])
        for a, b in zip(results[0], got):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=case.name)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and stats["traces"] >= 1, stats


# -- the engine's behaviour under create_graph ---------------------------------------------
def test_gradient_has_history_only_with_create_graph():
    x = stepjit.tensor([0.5, 1.5], dtype=stepjit.float64, requires_grad=True)
    (g,) = stepjit.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad and type(g.grad_fn).__name__ == "MulBackward0"
    (h,) = stepjit.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [3.0, 9.0])   # 6x
    (g1,) = stepjit.autograd.grad((x ** 3).sum(), x)
    assert not g1.requires_grad and g1.grad_fn is None


def test_backward_create_graph_keeps_history_on_grad_and_accumulates_out_of_place():
    w = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64, requires_grad=True)
    (w ** 3).sum().backward(create_graph=True)
    first = w.grad
    assert type(first.grad_fn).__name__ == "CloneBackward0"
    (w ** 2).sum().backward(create_graph=True)
    assert w.grad is not first and w.grad.grad_fn is not None   # grad + g, as PyTorch
    np.testing.assert_allclose(w.grad.detach().numpy(), [3 + 2, 12 + 4])
    np.testing.assert_allclose(first.detach().numpy(), [3.0, 12.0])


def test_create_graph_retains_the_graph_by_default():
    x = stepjit.tensor([0.3], dtype=stepjit.float64, requires_grad=True)
    y = x.exp().sum()
    stepjit.autograd.grad(y, x, create_graph=True)
    (g,) = stepjit.autograd.grad(y, x)   # no "backward through the graph a second time"
    np.testing.assert_allclose(g.numpy(), np.exp([0.3]))


def test_inplace_change_of_a_saved_tensor_is_caught_at_double_backward():
    x = stepjit.tensor([0.3, 0.4], dtype=stepjit.float64, requires_grad=True)
    y = x * 1
    z = (y.sin()).sum()   # sin saves its input y
    (g,) = stepjit.autograd.grad(z, x, create_graph=True)
    with stepjit.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stepjit.autograd.grad(g.sum(), x)


def test_compiled_forward_refuses_create_graph_by_name():
    lin = stepjit.nn.Linear(3, 1).double()
    f = stepjit.compile(lambda x: lin(x).tanh())
    x = stepjit.randn(2, 3, dtype=stepjit.float64, requires_grad=True)
    out = f(x)
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    with pytest.raises(NotImplementedError, match="CompiledFunctionBackward"):
        stepjit.autograd.grad(out.sum(), x, create_graph=True)
    (g,) = stepjit.autograd.grad(f(x).sum(), x)   # first order still works
    assert g.shape == (2, 3)


def test_gradgradcheck():
    x = stepjit.tensor(np.linspace(0.2, 1.4, 4), dtype=stepjit.float64, requires_grad=True)
    w = stepjit.tensor(np.linspace(-1, 1, 8).reshape(4, 2), dtype=stepjit.float64,
                       requires_grad=True)
    assert stepjit.autograd.gradgradcheck(lambda x, w: (x.sin() @ w).tanh(), (x, w))


def test_grad_materialize_grads_and_allow_unused():
    x = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64, requires_grad=True)
    y = stepjit.tensor([3.0], dtype=stepjit.float64, requires_grad=True)
    gx, gy = stepjit.autograd.grad((x * 2).sum(), (x, y), materialize_grads=True)
    np.testing.assert_array_equal(gy.numpy(), [0.0])
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        stepjit.autograd.grad((x * 2).sum(), (x, y))


def test_saved_history_is_read_when_saved_and_a_replaced_leaf_is_refused():
    # as PyTorch's saved variables: detach_ after the forward does not cut the recorded path
    x = stepjit.tensor([0.3, 0.4], dtype=stepjit.float64, requires_grad=True)
    y = x * 2
    z = y.sin().sum()
    y.detach_()
    (g,) = stepjit.autograd.grad(z, x, create_graph=True)
    (h,) = stepjit.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), -4 * np.sin([0.6, 0.8]), rtol=1e-14)
    w = stepjit.tensor([0.3, 0.4], dtype=stepjit.float64, requires_grad=True)
    z = w.sin().sum()
    w.data = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64)
    with pytest.raises(RuntimeError, match="SinBackward0: a leaf tensor saved for backward"):
        stepjit.autograd.grad(z, w, create_graph=True)


def test_once_differentiable_backward_raises_when_differentiated_again():
    from stepjit.autograd.function import once_differentiable

    class NumpyExp(stepjit.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return stepjit.from_numpy(np.exp(x.detach().numpy()))

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return stepjit.from_numpy(g.numpy() * np.exp(x.detach().numpy()))

    x = stepjit.tensor([0.5, 1.0], dtype=stepjit.float64, requires_grad=True)
    (g,) = stepjit.autograd.grad(NumpyExp.apply(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), np.exp([0.5, 1.0]))
    (g,) = stepjit.autograd.grad(NumpyExp.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.exp([0.5, 1.0]))
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        stepjit.autograd.grad(g.sum(), x)


def test_grads_batched_gives_one_vector_jacobian_product_per_row():
    x = stepjit.tensor([0.2, -0.4, 0.9], dtype=stepjit.float64, requires_grad=True)
    y = x.sin() * x.sum()
    eye = stepjit.eye(3, dtype=stepjit.float64)
    (J,) = stepjit.autograd.grad(y, x, eye, is_grads_batched=True)
    xs = x.detach().numpy()
    want = np.diag(np.cos(xs) * xs.sum()) + np.outer(np.sin(xs), np.ones(3))
    np.testing.assert_allclose(J.numpy(), want, rtol=1e-14)


def test_backward_with_inputs_fills_only_their_grad():
    x = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64, requires_grad=True)
    y = stepjit.tensor([3.0, 4.0], dtype=stepjit.float64, requires_grad=True)
    h = x * y
    loss = (h * h).sum()
    loss.backward(inputs=[x], retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 64.0])   # 2 x y^2
    assert y.grad is None
    loss.backward(inputs=[x, h])    # accumulates into x, and into the non-leaf h
    np.testing.assert_allclose(x.grad.numpy(), [36.0, 128.0])
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 16.0])
    assert y.grad is None
    z = stepjit.tensor([0.5], dtype=stepjit.float64, requires_grad=True)
    (z ** 3).sum().backward(inputs=[z], create_graph=True)
    (h2,) = stepjit.autograd.grad(z.grad.sum(), z)
    np.testing.assert_allclose(h2.numpy(), [3.0])   # d/dz 3z^2 = 6z
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
