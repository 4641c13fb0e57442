"""A model or optimizer handed to a compiled step as an argument (d2l's
`train_batch_ch13(net, X, y, loss, trainer, devices)`, `update_D(X, Z, net_D, net_G, loss,
trainer_D)`): the call guards the object's identity, and the Python values its attributes hold
are guarded and written back as a global model's are (values.argument_roots). Before, a replay
ignored `net.eval()` or a changed float attribute between calls (a stale result), and a forward
that stores a tensor on the module (d2l's attention: `self.attention_weights = softmax(...)`)
made every call trace again."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import nn


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.scale = 1.0

    def forward(self, x):
        y = self.lin(x) * self.scale
        return y * 2 if self.training else y


class Attending(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        self.attention_weights = torch.softmax(self.proj(x), dim=-1)
        return (self.attention_weights * x).sum(-1)


def _models(make):
    """Two copies with the same weights: one for the compiled run, one for eager's."""
    torch.manual_seed(0)
    a = make()
    b = make()
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_mode_and_attributes_of_a_model_argument_are_guarded(backend):
    def step(net, x):
        return net(x).sum()

    compiled = torch.compile(step, backend=backend)
    net, ref = _models(Scaled)
    x = torch.arange(12.0).reshape(3, 4)
    for i in range(6):
        for m in (net, ref):
            if i == 2:
                m.eval()
            if i == 4:
                m.scale = 3.0
        got, want = compiled(net, x).item(), step(ref, x).item()
        assert got == pytest.approx(want, rel=1e-6), (i, got, want)
    st = compiled.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_tensor_the_forward_stores_on_a_model_argument_is_written_back(backend):
    def train_batch(net, x, trainer):
        trainer.zero_grad()
        loss = net(x).pow(2).sum()
        loss.backward()
        trainer.step()
        return loss

    compiled = torch.compile(train_batch, backend=backend)
    net, ref = _models(Attending)
    opts = [torch.optim.SGD(m.parameters(), lr=0.05) for m in (net, ref)]
    for i in range(5):
        x = torch.arange(12.0).reshape(3, 4) / (10 * (i + 1))
        got = compiled(net, x, opts[0]).item()
        want = train_batch(ref, x, opts[1]).item()
        assert got == pytest.approx(want, rel=1e-6)
        np.testing.assert_allclose(net.attention_weights.numpy(),
                                   ref.attention_weights.detach().numpy(), rtol=1e-5, atol=1e-7)
    st = compiled.stats()
    assert st["traces"] <= 2 and st["mode"] == "tree", st
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st


class Meter:
    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.log = []


def test_a_meter_argument_the_step_updates_is_written_back_from_its_tree():
    """`step(meter, w, x)` counting calls and summing `loss.item()` into the meter it is handed:
    the counter and the sum are read per call and written back after each, as a global
    meter's are, so the step stays in its trace tree (before: traced on every call)."""
    def step(meter, w, x):
        loss = (w * x).sum()
        meter.count += 1
        meter.total += loss.item()
        meter.log.append(meter.count)
        return loss

    compiled = torch.compile(step)
    results = []
    for f in (step, compiled):
        meter, w = Meter(), torch.ones(3)
        for i in range(6):
            f(meter, w, torch.ones(3) * i)
        results.append((meter.count, meter.total, meter.log))
    assert results[1] == results[0] == (6, 45.0, [1, 2, 3, 4, 5, 6])
    st = compiled.stats()
    assert st["mode"] == "tree" and st["traces"] <= 3 and st["eager_calls"] == 0, st
