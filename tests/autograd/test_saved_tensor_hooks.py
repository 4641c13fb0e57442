"""autograd.graph.saved_tensors_hooks / save_on_cpu and grad_fn._saved_<name>: what the tape
keeps of each saved tensor is the pack hook's object, read back through the unpack hook by
backward, by a custom Function's saved_tensors and by the _saved_ attributes. Gradients are
checked against their closed forms, and the hook call pattern against PyTorch's where it is
installed (the same code runs on both modules)."""
import gc
import weakref

import numpy as np
import pytest

import stepjit

try:
    import torch as _torch
except ImportError:   # PyTorch is an optional oracle
    _torch = None

BOTH = [stepjit] + ([_torch] if _torch is not None else [])
MODULES = pytest.mark.parametrize("T", BOTH, ids=lambda m: m.__name__)


def _vec(T, k, requires_grad=True):
    return T.tensor(np.linspace(-1.0, 1.5, 4) + k, dtype=T.float64,
                    requires_grad=requires_grad)


@MODULES
def test_pack_sees_each_saved_tensor_and_unpack_feeds_backward(T):
    p, q = _vec(T, 0.0), _vec(T, 2.0)
    packed, unpacked = [], []

    def pack(t):
        packed.append(t)
        return ("box", t.detach().clone())

    def unpack(box):
        unpacked.append(box[0])
        return box[1]

    with T.autograd.graph.saved_tensors_hooks(pack, unpack):
        r = p * q
    assert len(packed) == 2 and any(t is p for t in packed) and any(t is q for t in packed)
    assert unpacked == []
    r.sum().backward()
    assert unpacked == ["box", "box"]
    np.testing.assert_array_equal(p.grad.numpy(), q.detach().numpy())
    np.testing.assert_array_equal(q.grad.numpy(), p.detach().numpy())


@MODULES
def test_packed_object_need_not_be_a_tensor(T):
    store = {}

    def pack(t):
        key = f"k{len(store)}"
        store[key] = t
        return key

    v = _vec(T, 0.5)
    with T.autograd.graph.saved_tensors_hooks(pack, lambda key: store[key]):
        w = (v * v).tanh()
    w.sum().backward()
    th = np.tanh(v.detach().numpy() ** 2)
    np.testing.assert_allclose(v.grad.numpy(), (1 - th ** 2) * 2 * v.detach().numpy(), rtol=1e-6)


@MODULES
def test_unpack_changing_scale_changes_the_gradient_as_in_pytorch(T):
    # The hooks are trusted: what unpack returns is what backward uses.
    v = _vec(T, 1.0)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t * 3, lambda t: t):
        s = v.pow(2).sum()
    s.backward()
    np.testing.assert_allclose(v.grad.numpy(), 6 * v.detach().numpy(), rtol=1e-6)


@MODULES
def test_innermost_pair_applies(T):
    calls = []
    outer = T.autograd.graph.saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t)
    inner = T.autograd.graph.saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t)
    v = _vec(T, 0.0)
    with outer:
        with inner:
            a = v.exp()
        b = v.sin()
    (a + b).sum().backward()
    assert calls == ["inner", "outer"]


@MODULES
def test_saved_attributes(T):
    a, b = _vec(T, 0.0), _vec(T, 3.0)
    m = a * b
    assert m.grad_fn._saved_self is a and m.grad_fn._saved_other is b
    e = a.exp()
    r = e.grad_fn._saved_result
    assert r is not e and r.equal(e)
    with pytest.raises(AttributeError):
        m.grad_fn._saved_nothing_by_this_name
    m.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        m.grad_fn._saved_self


@MODULES
def test_saved_attribute_goes_through_unpack_each_time(T):
    seen = []
    v = _vec(T, 2.0)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(),
                                              lambda t: seen.append(1) or t):
        y = v * v
    y.grad_fn._saved_self
    y.grad_fn._saved_self
    assert len(seen) == 2


@MODULES
def test_custom_function_saved_tensors_go_through_hooks(T):
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * g * x * x

    marks = []
    v = _vec(T, 0.0)
    with T.autograd.graph.saved_tensors_hooks(lambda t: marks.append("p") or ("x", t),
                                              lambda b: marks.append("u") or b[1]):
        y = Cube.apply(v)
    y.sum().backward()
    assert marks == ["p", "u"]
    np.testing.assert_allclose(v.grad.numpy(), 3 * v.detach().numpy() ** 2, rtol=1e-6)


@MODULES
def test_second_order_through_hooks(T):
    v = T.tensor([0.5, -1.25, 2.0], dtype=T.float64, requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: [t], lambda box: box[0]):
        y = (v * v * v).sum()
    g, = T.autograd.grad(y, v, create_graph=True)
    h, = T.autograd.grad(g.sum(), v)
    np.testing.assert_allclose(g.detach().numpy(), 3 * v.detach().numpy() ** 2)
    np.testing.assert_allclose(h.numpy(), 6 * v.detach().numpy())


@MODULES
def test_save_on_cpu_matches_plain_backward(T):
    T.manual_seed(0)
    net = T.nn.Sequential(T.nn.Linear(3, 5), T.nn.Tanh(), T.nn.Linear(5, 2))
    x = T.tensor(np.arange(6.0).reshape(2, 3) / 5, dtype=T.float32)
    net(x).square().sum().backward()
    plain = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    with T.autograd.graph.save_on_cpu(pin_memory=False):
        out = net(x).square().sum()
    out.backward()
    for p, g in zip(net.parameters(), plain):
        np.testing.assert_array_equal(p.grad.numpy(), g.numpy())


@MODULES
def test_packed_objects_are_released_by_backward(T):
    class Box:
        def __init__(self, t):
            self.t = t
    boxes = []

    def pack(t):
        b = Box(t)
        boxes.append(weakref.ref(b))
        return b

    v = _vec(T, 1.0)
    with T.autograd.graph.saved_tensors_hooks(pack, lambda b: b.t):
        y = (v * v).sum()
    gc.collect()
    assert all(r() is not None for r in boxes)
    y.backward()
    del y
    gc.collect()
    assert boxes and all(r() is None for r in boxes)


def test_unpack_must_give_a_tensor():
    v = _vec(stepjit, 0.0)
    with stepjit.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: "not a tensor"):
        y = (v * v).sum()
    with pytest.raises(TypeError, match="MulBackward0.*unpack_hook.*str"):
        y.backward()


def test_in_place_change_after_packing_still_detected():
    v = _vec(stepjit, 0.0)
    w = v * 1
    with stepjit.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (w * w).sum()
    with stepjit.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_disable_saved_tensors_hooks():
    with stepjit.autograd.graph.disable_saved_tensors_hooks("no hooks in this library"):
        with pytest.raises(RuntimeError, match="no hooks in this library"):
            with stepjit.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with stepjit.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


def test_compiled_step_with_hooks_runs_eagerly_and_says_where():
    lin = stepjit.nn.Linear(3, 2)
    x = stepjit.ones(4, 3)
    opt = stepjit.optim.SGD(lin.parameters(), lr=0.1)
    unpacks = []

    def step():
        with stepjit.autograd.graph.saved_tensors_hooks(lambda t: t,
                                                        lambda t: unpacks.append(1) or t):
            loss = lin(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    ref = stepjit.nn.Linear(3, 2)
    ref.load_state_dict(lin.state_dict())
    ref_opt = stepjit.optim.SGD(ref.parameters(), lr=0.1)
    cstep = stepjit.compile(step)
    with pytest.warns(UserWarning, match="runs eagerly: saved-tensor hooks are active at "
                                         "test_saved_tensor_hooks.py"):
        got = [cstep().item() for _ in range(3)]
    want = []
    for _ in range(3):
        loss = ref(x).square().mean()
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        want.append(loss.item())
    assert got == want
    assert unpacks   # the hooks ran, eagerly
