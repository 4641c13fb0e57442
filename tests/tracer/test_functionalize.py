"""Every in-place form a step can use is functionalized and written back as eager would.

Each case runs the same step eagerly and compiled (interpret backend) on
identical copies of its state and compares results, data and `.grad`.
"""
import numpy as np
import pytest

import stepjit as torch
from tests.runtime.helpers import check_graph


def _state():
    torch.manual_seed(0)
    w = torch.randn(4, 3, requires_grad=True)
    buf = torch.randn(4, 3)
    return w, buf


def _compare(step, steps=3, args=()):
    w, buf = _state()
    eager = [step(w, buf, *args) for _ in range(steps)]
    e_state = (w.detach().numpy().copy(), buf.numpy().copy(),
               None if w.grad is None else w.grad.numpy().copy())
    w, buf = _state()
    comp = torch.compile(lambda *a: step(w, buf, *a), backend="interpret")
    got = [comp(*args) for _ in range(steps)]
    c_state = (w.detach().numpy().copy(), buf.numpy().copy(),
               None if w.grad is None else w.grad.numpy().copy())
    for a, b in zip(eager, got):
        np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))
    for a, b in zip(e_state, c_state):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    for ev in comp.events:
        if "trace" in ev:
            check_graph(ev["trace"].graph)
    return comp


def _sub_(w, buf):
    buf.sub_(0.5)
    return buf.sum()


def _isub(w, buf):
    buf -= w.detach() * 2
    return buf.mean()


def _zero_(w, buf):
    out = buf.sum()
    buf.zero_()
    return out


def _copy_(w, buf):
    buf.copy_(w.detach() + 1)
    return buf.sum()


def _mask_assign(w, buf):
    buf[buf < 0] = 0
    return buf.sum()


def _slice_assign(w, buf):
    buf[1:3, ::2] = 7.0
    buf[0] = buf[3] * 2
    return buf.sum()


def _data_assign(w, buf):
    loss = (w * buf).sum()
    loss.backward()
    w.data = w.data - 0.1 * w.grad
    return loss


def _grad_writes(w, buf):
    loss = (w * w).sum()
    loss.backward()
    w.grad = w.grad * 0.5          # replace .grad with a new tensor
    with torch.no_grad():
        w -= w.grad
    return loss


def _grad_none(w, buf):
    loss = (w * buf).sum()
    loss.backward()
    with torch.no_grad():
        w.add_(w.grad, alpha=-0.1)
    w.grad = None
    return loss


def _write_through_view(w, buf):
    row = buf[1]
    row.mul_(3)                    # changes buf: row is a view
    flat = buf.view(-1)
    flat[0] = -1.0
    return buf.sum()


def _detach_alias(w, buf):
    d = w.detach()
    with torch.no_grad():
        d.mul_(0.9)                # d shares storage with w
    return w.sum()


@pytest.mark.parametrize("step", [_sub_, _isub, _zero_, _copy_, _mask_assign, _slice_assign,
                                  _data_assign, _grad_writes, _grad_none, _write_through_view,
                                  _detach_alias], ids=lambda f: f.__name__.strip("_"))
def test_inplace_form_matches_eager(step):
    _compare(step)


def test_argument_mutated_in_place_is_written_back():
    def step(x):
        x.mul_(2)
        return x.sum()
    x = torch.ones(3)
    c = torch.compile(step, backend="interpret")
    assert c(x).item() == 6.0 and c(x).item() == 12.0
    np.testing.assert_array_equal(x.numpy(), [4.0, 4.0, 4.0])
    assert x._version.value == 2


def test_containers_in_and_out():
    def step(batch, scale):
        a, b = batch["a"], batch["pair"][1]
        return {"sum": (a + b) * scale, "parts": [a * 2, (b,)], "name": "ok"}
    c = torch.compile(step, backend="interpret")
    batch = {"a": torch.ones(2), "pair": (torch.zeros(2), torch.full((2,), 3.0))}
    out = c(batch, 2)
    assert out["name"] == "ok"
    np.testing.assert_array_equal(out["sum"].numpy(), [8.0, 8.0])
    np.testing.assert_array_equal(out["parts"][1][0].numpy(), [3.0, 3.0])
    c(batch, 2)
    assert c.stats()["traces"] == 1
    c(batch, 3)                     # a Python scalar argument is guarded
    assert c.stats()["traces"] == 2


def test_method_and_module_compile():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x).relu()

        @torch.compile(backend="interpret")
        def loss(self, x):
            return self(x).sum()

    torch.manual_seed(0)
    m = Model()
    x = torch.randn(4, 3)
    cm = torch.compile(m, backend="interpret")
    with torch.no_grad():
        np.testing.assert_array_equal(cm(x).numpy(), m(x).numpy())
        assert m.loss(x).item() == m(x).sum().item()
    g = torch.make_ir(m)(x)
    assert {label for _, label in g.lifted} == {"@fc.weight", "@fc.bias"}


def test_retrace_on_shape_grad_mode_and_requires_grad():
    w = torch.ones(3, requires_grad=True)

    def step(x):
        return (x * w).sum()
    c = torch.compile(step, backend="interpret")
    c(torch.ones(3))
    c(torch.ones(3))
    c(torch.ones(2, 3))
    with torch.no_grad():
        c(torch.ones(3))
    reasons = [e["reason"] for e in c.events if e.get("outcome") != "verified"]
    assert reasons[0] == "first call"
    assert "tensor argument 0 changed" in reasons[1]
    assert "grad mode changed" in reasons[2]
    assert c.stats()["traces"] == 3


def test_data_dependent_branch_follows_eager():
    def step(x):
        if x.sum() > 0:
            return x * 2
        return x - 1
    c = torch.compile(step, backend="interpret")
    for v in [1.0, -1.0, 2.0, -3.0]:
        x = torch.full((2,), v)
        np.testing.assert_array_equal(c(x).numpy(), step(x).numpy())
    assert c.stats()["traces"] == 2       # one per branch, then both are reused


def test_original_state_untouched_by_tracing():
    w = torch.ones(2, requires_grad=True)
    g = torch.make_ir(lambda x: (x * w).sum().backward())(torch.ones(2))
    assert w.grad is None and np.array_equal(w.detach().numpy(), [1.0, 1.0])
    assert any(label == "@w.grad" for label, _ in g.writes)
