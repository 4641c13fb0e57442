"""Module hooks (forward pre-hooks, forward hooks, full backward hooks and pre-hooks): the
values a hook sees against NumPy references, replacement of arguments, outputs and
gradients, removal, PyTorch's call order, and a compiled step running them as eager does."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn

RNG = np.random.default_rng(5)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((2, 3))
B = RNG.standard_normal(2)
COT = RNG.standard_normal((4, 2))


def linear():
    m = nn.Linear(3, 2).double()
    with stepjit.no_grad():
        m.weight.copy_(stepjit.tensor(W))
        m.bias.copy_(stepjit.tensor(B))
    return m


def test_forward_hook_sees_input_and_output_and_can_replace_it():
    m, seen = linear(), []
    m.register_forward_hook(lambda mod, args, out: seen.append((mod, args[0].numpy(), out.detach().numpy())))
    y = m(stepjit.tensor(X))
    assert seen[0][0] is m
    np.testing.assert_array_equal(seen[0][1], X)
    np.testing.assert_allclose(seen[0][2], X @ W.T + B, rtol=1e-14)
    m.register_forward_hook(lambda mod, args, out: out * 2)
    np.testing.assert_allclose(m(stepjit.tensor(X)).detach().numpy(), 2 * y.detach().numpy(), rtol=1e-14)


def test_forward_pre_hook_replaces_arguments_and_kwargs_form():
    m = linear()
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)   # a single value: wrapped
    np.testing.assert_allclose(m(stepjit.tensor(X)).detach().numpy(), (X + 1) @ W.T + B, rtol=1e-14)
    k = linear()
    k.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 0,), kwargs),
                                with_kwargs=True)
    k.register_forward_hook(lambda mod, args, kwargs, out: out - 1, with_kwargs=True)
    np.testing.assert_allclose(k(stepjit.tensor(X)).detach().numpy(), np.broadcast_to(B - 1, (4, 2)))


def test_full_backward_hook_gets_pytorchs_grad_input_and_grad_output():
    m, seen = linear(), []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    x = stepjit.tensor(X, requires_grad=True)
    (m(x) * stepjit.tensor(COT)).sum().backward()
    (gin,), (gout,) = seen[0]
    np.testing.assert_allclose(gout.numpy(), COT, rtol=1e-14)
    np.testing.assert_allclose(gin.numpy(), COT @ W, rtol=1e-14)
    np.testing.assert_allclose(m.weight.grad.numpy(), COT.T @ X, rtol=1e-14)


def test_backward_hook_without_input_gradient_gets_none():
    m, seen = linear(), []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    (m(stepjit.tensor(X)) * stepjit.tensor(COT)).sum().backward()
    assert seen[0][0] == (None,)
    np.testing.assert_allclose(seen[0][1][0].numpy(), COT, rtol=1e-14)


def test_backward_hooks_replace_gradients():
    m = linear()
    m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 3,))
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] + 1,))
    x = stepjit.tensor(X, requires_grad=True)
    (m(x) * stepjit.tensor(COT)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * COT @ W + 1, rtol=1e-14)
    np.testing.assert_allclose(m.weight.grad.numpy(), 3 * COT.T @ X, rtol=1e-14)


def test_hooks_run_in_pytorchs_order_and_remove():
    m, order = linear(), []
    h1 = m.register_forward_hook(lambda *a: order.append("fwd1"))
    m.register_forward_hook(lambda *a: order.append("fwd0"), prepend=True)
    m.register_forward_pre_hook(lambda *a: order.append("pre"))
    m.register_full_backward_hook(lambda *a: order.append("bwd"))
    m.register_full_backward_pre_hook(lambda *a: order.append("bwd_pre"))
    m(stepjit.tensor(X, requires_grad=True)).sum().backward()
    assert order == ["pre", "fwd0", "fwd1", "bwd_pre", "bwd"]
    h1.remove()
    order.clear()
    with m.register_forward_hook(lambda *a: order.append("scoped")):
        m(stepjit.tensor(X))
    m(stepjit.tensor(X))
    assert order == ["pre", "fwd0", "scoped", "pre", "fwd0"]


def test_hooks_on_submodules_collect_activations():
    """The feature-extraction idiom: a dict filled by forward hooks on named layers."""
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).double()
    acts = {}
    for name, mod in model.named_children():
        mod.register_forward_hook(lambda m, a, out, name=name: acts.__setitem__(name, out.shape))
    model(stepjit.tensor(X))
    assert {k: tuple(v) for k, v in acts.items()} == {"0": (4, 5), "1": (4, 5), "2": (4, 2)}


def test_bad_hook_is_refused():
    with pytest.raises(TypeError, match="callable"):
        linear().register_forward_hook(3)
    m = linear()
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        m(stepjit.tensor(X, requires_grad=True)).sum().backward()


def test_compiled_step_runs_hooks_as_eager():
    def run(compiled):
        m = linear()
        m.register_forward_hook(lambda mod, args, out: out.tanh())
        m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 0.5,))
        opt = stepjit.optim.SGD(m.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (m(x) * stepjit.tensor(COT)).sum()
            loss.backward()
            opt.step()
            return loss.detach(), x.grad

        fn = stepjit.compile(step) if compiled else step
        out = []
        for _ in range(3):
            x = stepjit.tensor(X, requires_grad=True)
            loss, _ = fn(x)
            out.append((loss.item(), x.grad.numpy().copy()))
        return out, m.weight.detach().numpy()

    (eager, ew), (comp, cw) = run(False), run(True)
    for (el, eg), (cl, cg) in zip(eager, comp):
        assert cl == pytest.approx(el, rel=1e-12)
        np.testing.assert_allclose(cg, eg, rtol=1e-12)
    np.testing.assert_allclose(cw, ew, rtol=1e-12)


def test_live_pytorch_sees_the_same_hook_values():
    torch = pytest.importorskip("torch")
    got, want = [], []
    for T, seen in ((stepjit, got), (torch, want)):
        m = T.nn.Linear(3, 2).double()
        with T.no_grad():
            m.weight.copy_(T.tensor(W))
            m.bias.copy_(T.tensor(B))
        m.register_full_backward_hook(lambda mod, gin, gout, seen=seen: seen.append(
            (gin[0].numpy().copy(), gout[0].numpy().copy())))
        x = T.tensor(X, requires_grad=True)
        (m(x).tanh() * T.tensor(COT)).sum().backward()
    for a, b in zip(got[0], want[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_always_call_hook_runs_when_forward_raises():
    m, seen = linear(), []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    with pytest.raises(Exception):
        m(stepjit.ones(4, 5, dtype=stepjit.float64))   # wrong width: forward raises
    assert seen == [None]
