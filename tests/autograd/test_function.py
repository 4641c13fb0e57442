"""Custom autograd.Function, as PyTorch tutorials write them."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import autograd
from tests.runtime.programs import MyReLU   # the tutorial's custom ReLU, written once

# every test runs on both eager backward paths (see conftest.py)
pytestmark = pytest.mark.usefixtures("backward_path", "forward_path")


class ScaleAdd(autograd.Function):
    """out = a * scale + b, with a Python attribute on ctx and needs_input_grad."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        return a * scale + b

    @staticmethod
    def backward(ctx, g):
        ga = g * ctx.scale if ctx.needs_input_grad[0] else None
        gb = g if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_tutorial_relu():
    x = torch.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = MyReLU.apply(x)
    assert type(y.grad_fn).__name__ == "MyReLUBackward"
    assert y.tolist() == [0.0, 2.0, 0.0, 4.0]
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 2, 0, 4])


def test_relu_matches_builtin_in_a_chain():
    x = torch.randn(5, 3, requires_grad=True)
    w = torch.randn(3, 2, requires_grad=True)
    MyReLU.apply(x @ w).pow(2).sum().backward()
    g1 = w.grad.clone()
    w.grad = None
    (x @ w).relu().pow(2).sum().backward()
    np.testing.assert_allclose(g1.numpy(), w.grad.numpy(), rtol=1e-6)


def test_ctx_attributes_and_needs_input_grad():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0])
    out = ScaleAdd.apply(a, b, 3.0)
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    assert out.grad_fn.__class__.__name__ == "ScaleAddBackward"


def test_needs_input_grad_seen_in_forward():
    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            Probe.needs = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    Probe.apply(torch.ones(2, requires_grad=True), torch.ones(2), 1)
    assert Probe.needs == (True, False, False)


def test_no_graph_when_nothing_requires_grad():
    out = MyReLU.apply(torch.tensor([1.0, -1.0]))
    assert out.grad_fn is None and not out.requires_grad
    with torch.no_grad():
        out = MyReLU.apply(torch.tensor([1.0], requires_grad=True))
    assert out.grad_fn is None


def test_wrong_number_of_grads():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    out = Bad.apply(torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        out.sum().backward()


def test_wrong_grad_shape():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return torch.ones(3)

    out = Bad.apply(torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        out.sum().backward()


def test_broadcast_grad_is_summed_to_input_shape():
    class Bcast(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g.expand(4, 3)

    a = torch.ones(3, requires_grad=True)
    Bcast.apply(a).sum().backward()
    assert a.grad.tolist() == [4.0, 4.0, 4.0]


def test_grad_of_another_dtype_is_cast_and_a_fitting_one_passed_as_is():
    """FunctionBackward._check: a float64 gradient for a float32 input reaches .grad as float32
    (fit_grad); one already of the input's shape and dtype is handed on as the same object."""
    seen = []

    class Wide(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 1 + b * 1

        @staticmethod
        def backward(ctx, g):
            fit = g * 3
            seen.append(fit)
            return g.to(torch.float64) * 2, fit

    a = torch.tensor([1.0, 2.0], requires_grad=True)
    ha = a * 1
    ha.retain_grad()   # (a leaf's .grad is cast by the accumulation anyway)
    b = torch.tensor([1.0, 2.0], requires_grad=True)
    h = b * 1
    h.retain_grad()
    h.register_hook(lambda g: seen.append(g))
    Wide.apply(ha, h).sum().backward()
    assert ha.grad.dtype is torch.float32 and ha.grad.tolist() == [2.0, 2.0]
    assert seen[1] is seen[0] and h.grad.tolist() == [3.0, 3.0]


def test_saved_tensors_in_forward_and_error_naming_the_node():
    class Peek(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            assert ctx.saved_tensors[0] is a
            return a * 1

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * a

    h = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    out = Peek.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="which is used by PeekBackward, is at version 1"):
        out.sum().backward()


def test_multiple_outputs_and_unused_output_grad_materialized():
    class Split(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    a = torch.tensor([1.0, 1.0], requires_grad=True)
    p, q = Split.apply(a)
    assert p.grad_fn is q.grad_fn
    p.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_saved_tensor_modified_inplace_raises():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1
    out = MyReLU.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_saved_tensors_freed_after_backward():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    out = MyReLU.apply(a)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


def test_second_backward_raises_without_saved_tensors_too():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    out = ScaleAdd.apply(a, a, 2.0)   # saves nothing
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


def test_non_differentiable_marks_belong_to_one_call():
    class MaybeMark(autograd.Function):
        @staticmethod
        def forward(ctx, a, mark):
            out = a * 2
            if mark:
                ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    a = torch.tensor([1.0, 2.0], requires_grad=True)
    assert not MaybeMark.apply(a, True).requires_grad
    out = MaybeMark.apply(a, False)   # a fresh ctx: no marks carried over
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_function_gradcheck():
    x = torch.tensor([-1.5, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    assert autograd.gradcheck(MyReLU.apply, (x,))


def test_mark_non_differentiable():
    class ArgMaxToo(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            idx = a.argmax()
            mx = a.amax()
            ctx.mark_non_differentiable(idx)
            return mx, idx

        @staticmethod
        def backward(ctx, g, gi):
            return g * torch.ones(3)

    mx, idx = ArgMaxToo.apply(torch.tensor([1.0, 3.0, 2.0], requires_grad=True))
    assert mx.requires_grad and not idx.requires_grad


class Standardize(autograd.Function):
    """(x - mean) / (std + eps) per column, its backward written by hand and marked
    once_differentiable, as the fused conv-batch-norm tutorial marks its own."""

    @staticmethod
    def forward(ctx, x, eps=1e-3):
        n = x.shape[0]
        s = x.sum(dim=0)
        sd = x.var(dim=0, unbiased=True).sqrt()
        ctx.save_for_backward(x)
        ctx.s, ctx.sd, ctx.n, ctx.eps = s, sd, n, eps
        out = x - s / n
        out /= sd + eps
        return out

    @staticmethod
    @autograd.function.once_differentiable
    def backward(ctx, g):
        x, = ctx.saved_tensors
        ctx.grad_mode_seen = torch.is_grad_enabled()
        s, sd, n, eps = ctx.s, ctx.sd, ctx.n, ctx.eps
        centered = x - s / n
        d_sd = -(centered * g).sum(dim=0) / (sd + eps) ** 2
        gx = centered * (d_sd / (sd * (n - 1)))
        gx += (g - g.sum(dim=0) / n) / (sd + eps)
        return gx, None


def test_once_differentiable_backward_runs_without_grad_and_passes_gradcheck():
    x = torch.tensor(np.random.RandomState(0).rand(5, 3), requires_grad=True)
    assert autograd.gradcheck(Standardize.apply, (x,))
    out = Standardize.apply(x * 2.0)
    with torch.enable_grad():
        (out * out).sum().backward()
    assert out.grad_fn.ctx.grad_mode_seen is False
    assert Standardize.backward.once_differentiable and Standardize.backward.__name__ == "backward"


def test_once_differentiable_in_a_compiled_step_matches_eager():
    data = np.random.RandomState(1).rand(6, 4)

    def step(w):
        loss = (Standardize.apply(torch.tensor(data) * w) ** 3).sum()
        loss.backward()
        return loss
    w1 = torch.ones(4, dtype=torch.float64, requires_grad=True)
    w2 = torch.ones(4, dtype=torch.float64, requires_grad=True)
    compiled = torch.compile(step, backend="interpret")
    assert compiled(w1).item() == step(w2).item()
    np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
