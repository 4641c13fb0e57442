"""PyTorch's autograd semantics on the eager tape: leaves, .grad, hooks, grad mode, versions."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit import autograd

# every test runs on both eager backward paths (see conftest.py)
pytestmark = pytest.mark.usefixtures("backward_path", "forward_path")


def leaf(*vals, dtype=None):
    return torch.tensor(list(vals) if len(vals) != 1 else vals[0], dtype=dtype, requires_grad=True)


# -- leaves and grad_fn --------------------------------------------------------------
def test_requires_grad_only_on_leaves():
    a = leaf([1.0, 2.0])
    b = a * 2
    assert a.is_leaf and not b.is_leaf
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        b.requires_grad = False
    # True on a computed tensor is PyTorch's no-op (a WGAN-GP's penalty marks the points it
    # mixes from a generator's output, `mixed.requires_grad_(True)`): history kept
    assert b.requires_grad_(True) is b and b.grad_fn is not None and b.requires_grad
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]
    c = torch.tensor([1.0])
    assert c.is_leaf and not c.requires_grad
    c.requires_grad_()
    assert c.requires_grad and c.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2]).requires_grad_()


def test_result_of_no_grad_inputs_is_leaf():
    a = torch.tensor([1.0])
    assert (a * 2).is_leaf and (a * 2).grad_fn is None


@pytest.mark.parametrize("expr,name", [
    (lambda a, b: a + b, "AddBackward0"),
    (lambda a, b: a - b, "SubBackward0"),
    (lambda a, b: a * b, "MulBackward0"),
    (lambda a, b: a / b, "DivBackward0"),
    (lambda a, b: a.mm(b.t()), "MmBackward0"),
    (lambda a, b: a.sum(), "SumBackward0"),
    (lambda a, b: a.sum(1), "SumBackward1"),
    (lambda a, b: a.mean(), "MeanBackward0"),
    (lambda a, b: a.mean(0), "MeanBackward1"),
    (lambda a, b: a.exp(), "ExpBackward0"),
    (lambda a, b: a.relu(), "ReluBackward0"),
    (lambda a, b: a.sigmoid(), "SigmoidBackward0"),
    (lambda a, b: a.tanh(), "TanhBackward0"),
    (lambda a, b: a ** 2, "PowBackward0"),
    (lambda a, b: -a, "NegBackward0"),
    (lambda a, b: a.t(), "TBackward0"),
    (lambda a, b: a.reshape(-1), "ViewBackward0"),
    (lambda a, b: a.view(4), "ViewBackward0"),
    (lambda a, b: a.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda a, b: a.transpose(0, 1), "TransposeBackward0"),
    (lambda a, b: a.permute(1, 0), "PermuteBackward0"),
    (lambda a, b: a.expand(3, 2, 2), "ExpandBackward0"),
    (lambda a, b: a[0], "SelectBackward0"),
    (lambda a, b: a[:1], "SliceBackward0"),
    (lambda a, b: a.clone(), "CloneBackward0"),
    (lambda a, b: a.softmax(1), "SoftmaxBackward0"),
    (lambda a, b: a.log_softmax(1), "LogSoftmaxBackward0"),
    (lambda a, b: torch.cat([a, b]), "CatBackward0"),
    (lambda a, b: torch.stack([a, b]), "StackBackward0"),
    (lambda a, b: a.max(), "MaxBackward1"),
    (lambda a, b: a.max(1)[0], "MaxBackward0"),
    (lambda a, b: a.clamp(min=0), "ClampMinBackward0"),
    (lambda a, b: a.double(), "ToCopyBackward0"),
    (lambda a, b: torch.where(a > 0, a, b), "WhereBackward0"),
])
def test_grad_fn_names(expr, name):
    a = leaf([[1.0, -2.0], [3.0, 4.0]])
    b = leaf([[0.5, 1.0], [2.0, 1.5]])
    out = expr(a, b)
    assert type(out.grad_fn).__name__ == name
    assert out.grad_fn.name() == name


def test_next_functions_reach_accumulate_grad():
    a = leaf([1.0])
    b = torch.tensor([2.0])
    y = a * b
    fns = y.grad_fn.next_functions
    assert type(fns[0][0]).__name__ == "AccumulateGrad" and fns[0][0].variable is a
    assert fns[1] == (None, 0)


# -- .grad ------------------------------------------------------------------------------
def test_grad_none_before_backward_then_accumulates():
    a = leaf([1.0, 2.0])
    assert a.grad is None
    (a * 3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3, 3])
    (a * a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [5, 7])
    assert a.grad.grad_fn is None and not a.grad.requires_grad


def test_grads_do_not_alias_between_leaves():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])
    np.testing.assert_allclose(a.grad.numpy(), [0, 0])


def test_grad_from_expand_is_writable():
    a = leaf([[1.0], [2.0]])
    a.expand(2, 3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[3], [3]])
    a.grad.zero_()
    a.grad += 1
    np.testing.assert_allclose(a.grad.numpy(), [[1], [1]])
    b = leaf(2.0)
    b.expand(4).sum().backward()
    b.grad.mul_(2)
    assert b.grad.item() == 8


def test_grad_of_sum_is_writable_and_not_shared_with_output_grad():
    a = leaf([1.0, 2.0])
    g = torch.tensor([1.0, 1.0])
    (a * 1).backward(g)
    a.grad.add_(1)
    np.testing.assert_allclose(g.numpy(), [1, 1])


def test_grad_setter_and_zero():
    a = leaf([1.0, 2.0])
    a.grad = torch.tensor([5.0, 5.0])
    (a * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [7, 7])
    a.grad.zero_()
    assert a.grad.tolist() == [0, 0]
    a.grad = None
    assert a.grad is None
    with pytest.raises(RuntimeError, match="different size"):
        a.grad = torch.tensor([1.0])


def test_nonleaf_grad_warns_and_retain_grad():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = a * 3
    c.retain_grad()
    (b * c).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert b.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(c.grad.numpy(), [2, 4])
        assert c.retains_grad


def test_retain_grad_accumulates():
    a = leaf([1.0])
    b = a * 2
    b.retain_grad()
    b.sum().backward(retain_graph=True)
    b.sum().backward()
    assert b.grad.tolist() == [2.0]


# -- hooks ---------------------------------------------------------------------------------
def test_hook_can_replace_gradient_and_be_removed():
    a = leaf([1.0, 2.0])
    seen = []
    h = a.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (a * 2).sum().backward()
    assert seen == [[2, 2]]
    np.testing.assert_allclose(a.grad.numpy(), [20, 20])
    h.remove()
    a.grad = None
    (a * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2, 2])


def test_hook_on_intermediate():
    a = leaf([1.0, 2.0])
    b = a * 2
    b.register_hook(lambda g: g * 0)
    (b * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0, 0])


def test_hook_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.tensor([1.0]).register_hook(lambda g: g)


# -- grad mode ---------------------------------------------------------------------------------
def test_no_grad_enable_grad_context_managers():
    a = leaf([1.0])
    with torch.no_grad():
        b = a * 2
        assert not torch.is_grad_enabled()
        with torch.enable_grad():
            c = a * 2
    assert not b.requires_grad and b.grad_fn is None
    assert c.requires_grad
    assert torch.is_grad_enabled()


def test_grad_mode_decorators():
    a = leaf([1.0])

    @torch.no_grad()
    def f(x):
        return x * 2

    @torch.enable_grad()
    def g(x):
        return x * 2

    @torch.set_grad_enabled(False)
    def h(x):
        return x * 2

    assert not f(a).requires_grad
    with torch.no_grad():
        assert g(a).requires_grad
    assert torch.is_grad_enabled()
    assert not h(a).requires_grad
    assert torch.is_grad_enabled()


def test_set_grad_enabled_call_and_context():
    a = leaf([1.0])
    with torch.set_grad_enabled(False):
        assert not (a * 2).requires_grad
    assert torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        assert not (a * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert (a * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


# -- .data, detach -----------------------------------------------------------------------------
def test_data_is_untracked_and_shares_storage():
    a = leaf([1.0, 2.0])
    d = a.data
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0
    assert a.tolist() == [5.0, 2.0]
    a.data = torch.tensor([7.0, 8.0])
    assert a.tolist() == [7.0, 8.0] and a.requires_grad and a.is_leaf
    (a * a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [14, 16])


def test_detach_shares_storage():
    a = leaf([1.0, 2.0])
    b = (a * 2).detach()
    assert not b.requires_grad and b.is_leaf
    d = a.detach()
    d.add_(1)
    assert a.tolist() == [2.0, 3.0]


# -- backward arguments ----------------------------------------------------------------------------
def test_backward_gradient_for_non_scalar():
    a = leaf([1.0, 2.0])
    y = a * a
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(torch.tensor([1.0, 0.5]))
    np.testing.assert_allclose(a.grad.numpy(), [2, 2])


def test_backward_gradient_shape_mismatch():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(torch.tensor([1.0]))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        torch.tensor([1.0]).sum().backward()


def test_retain_graph_and_freed_graph_error():
    a = leaf([1.0, 2.0])
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), [4, 8])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_second_backward_through_graph_without_saved_values_is_allowed():
    a = leaf([1.0, 2.0])
    y = (a + 1).sum()
    y.backward()
    y.backward()  # PyTorch allows it: AddBackward and SumBackward save no tensors
    np.testing.assert_allclose(a.grad.numpy(), [2, 2])


def test_shared_subgraph_gradients_sum():
    a = leaf(2.0)
    b = a * a
    y = b * b + b
    y.backward()
    assert a.grad.item() == pytest.approx(4 * 8 + 4)


def test_diamond_and_unused_leaf():
    a, b = leaf([1.0]), leaf([1.0])
    c = a * 2
    (c + c * 3).sum().backward()
    assert a.grad.tolist() == [8.0] and b.grad is None


# -- version counters ---------------------------------------------------------------------------
def test_inplace_on_saved_tensor_raises_at_backward():
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_inplace_on_saved_output_raises():
    a = leaf([1.0, 2.0])
    y = a.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_data_write_does_not_bump_version():
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b * b
    b.data.add_(1)
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [4, 6])


def test_version_counter_shared_by_views():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 1
    c = b.exp()
    v = c[1:]
    with torch.no_grad():
        v.mul_(2)
    with pytest.raises(RuntimeError, match="inplace"):
        c.sum().backward()


# -- in-place ops ------------------------------------------------------------------------------------
def test_inplace_on_leaf_requiring_grad():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        a.add_(1)
    assert a.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        a[0] = 3.0
    with torch.no_grad():
        a.sub_(torch.tensor([0.5, 0.5]))
        a[1] = 9.0
        a *= 2
    assert a.tolist() == [1.0, 18.0] and a.is_leaf and a.requires_grad


def test_inplace_on_nonleaf_gradients():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 2
    b.mul_(a)           # b = 2a^2
    b.add_(1)
    b[0] = 0.0          # d/da0 = 0
    b.relu_()
    assert type(b.grad_fn).__name__ == "ReluBackward0"
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0, 8, 12])


def test_inplace_with_tensor_requiring_grad_on_plain_tensor():
    a = leaf([1.0, 2.0])
    b = torch.zeros(2)
    b += a * a
    assert b.requires_grad and not b.is_leaf
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2, 4])


def test_masked_setitem_on_nonleaf():
    x = leaf([-1.0, 2.0, -3.0])
    y = x * 2
    y[x < 0] = 0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 2, 0])


def test_setitem_value_gets_gradient():
    v = leaf([5.0, 6.0])
    y = torch.zeros(3, 2)
    y[1] = v * 2
    (y * y).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [40, 48])


# -- autograd.grad ---------------------------------------------------------------------------------
def test_autograd_grad_does_not_touch_dot_grad():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ga, gb = autograd.grad((a * b).sum(), [a, b])
    np.testing.assert_allclose(ga.numpy(), [3, 4])
    np.testing.assert_allclose(gb.numpy(), [1, 2])
    assert a.grad is None and b.grad is None


def test_autograd_grad_unused_and_intermediate():
    a, b = leaf([1.0]), leaf([1.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad((a * 2).sum(), [a, b])
    ga, gb = autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert gb is None and ga.tolist() == [2.0]
    h = a * 3
    (gh,) = autograd.grad((h * h).sum(), [h])
    assert gh.tolist() == [6.0]


def test_gradcheck():
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert autograd.gradcheck(lambda a, b: (a * b).exp().sum(), (x, y))
    assert autograd.gradcheck(lambda a: a.softmax(0), (x,))

    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    assert not autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        autograd.gradcheck(Wrong.apply, (x,))


def test_gradcheck_calls_func_twice_per_input_element_whatever_the_output_size():
    # the fused conv-batch-norm tutorial checks a convolution of 1605 inputs and 1250 outputs:
    # one pair of calls per (output, input) element pair took millions of convolutions
    calls = []
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)

    def f(a, b):
        calls.append(1)
        return (a @ b).tanh(), a.sum(0)
    assert autograd.gradcheck(f, (x, w), fast_mode=False)
    assert len(calls) == 1 + 2 * (x.numel() + w.numel())

    def wrong_second_output(a, b):
        return a @ b, Wrong.apply(a).sum(0)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 1"):
        autograd.gradcheck(wrong_second_output, (x, w), fast_mode=True)


class Wrong(autograd.Function):
    """Its backward is 3/2 of the true gradient."""

    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3


def test_create_graph_gives_differentiable_gradients_on_every_path():
    # The same tape first run once or twice without create_graph (so the straight-line and
    # tape functions exist for its structure), then with it: create_graph must not take them.
    a = leaf([1.0, 2.0], dtype=torch.float64)
    for _ in range(3):
        (a.sin() * a).sum().backward()
    a.grad = None
    (a.sin() * a).sum().backward(create_graph=True)
    g = a.grad
    assert g.requires_grad
    (h,) = autograd.grad(g.sum(), a)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(h.numpy(), 2 * np.cos(x) - x * np.sin(x), rtol=1e-14)


def test_one_root_node_given_twice_is_walked_once():
    # The same tensor twice, and two outputs of one node: the root node runs once with both
    # gradients summed (PyTorch: 12 and 5). A root walked twice counted its children's edges
    # twice, so they never became ready and the leaves got no gradient.
    x = leaf([1.0, 2.0])
    y = (x * 3) * 2
    autograd.backward([y, y], [torch.ones(2), torch.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), [12, 12])

    class Two(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = leaf([1.0, 2.0])
    p, q = Two.apply(x * 1)
    autograd.backward([p, q], [torch.ones(2), torch.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])
    x = leaf([1.0, 2.0])
    p, q = Two.apply(x * 1)
    assert autograd.grad([p, q], x, [torch.ones(2), torch.ones(2)])[0].tolist() == [5, 5]
