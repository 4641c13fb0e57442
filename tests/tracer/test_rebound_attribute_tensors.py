"""A step that binds an attribute to a tensor it made, with autograd history (minGPT's trainer:
`logits, self.loss = model(x, y)`, then `self.loss.backward()`): the attribute is rebound after
every call to a fresh tensor holding the value, as a global is (tracer/sources.py), instead of
the trace describing one call only (every call traced, then eager past the recompile limit)."""
import numpy as np
import pytest

import stepjit as torch


class Trainer:
    def __init__(self):
        torch.manual_seed(3)
        self.model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(),
                                         torch.nn.Linear(8, 3))
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=0.01)
        self.loss = None
        self.iter_num = 0

    def run(self, compiled, calls=14, backend="interpret"):
        x, y = torch.randn(6, 5), torch.randint(0, 3, (6,))
        seen = []

        def step():
            logits = self.model(x)
            self.loss = torch.nn.functional.cross_entropy(logits, y)
            self.model.zero_grad(set_to_none=True)
            self.loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.iter_num += 1

        f = torch.compile(step, backend=backend) if compiled else step
        kept = []
        for _ in range(calls):
            f()
            kept.append(self.loss)       # a reference the caller keeps keeps its value
            seen.append((self.loss.item(), self.iter_num))
        return seen, [t.item() for t in kept], f


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_attribute_bound_to_the_loss_stays_compiled(backend):
    want, want_kept, _ = Trainer().run(False)
    got, got_kept, f = Trainer().run(True, backend=backend)
    if backend == "interpret":
        assert got == want and got_kept == want_kept
    else:
        assert [n for _, n in got] == [n for _, n in want]
        np.testing.assert_allclose([v for v, _ in got], [v for v, _ in want], rtol=1e-5)
        np.testing.assert_allclose(got_kept, want_kept, rtol=1e-5)
    st = f.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree" and st["traces"] <= 3, st


class _RunningMean:
    def __init__(self):
        self.moving_mean = torch.zeros(3)     # float32, as d2l's BatchNorm makes it


def test_an_attribute_rebound_to_another_dtype_is_never_replayed_stale():
    """d2l's hand-written batch norm under a float64 model: `Y, self.moving_mean, ... =
    batch_norm(...)` rebinds a float32 running mean to a float64 tensor. The trace lifted the
    float32 object, which the attribute no longer holds after the call, so no guard can tell
    that it moved: that trace describes its call only, and the next (float64 to float64) is
    written back as a rebinding is. Was: the third call replayed the first trace, reading the
    first call's zeros (the running mean stuck at its first value)."""
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    state = _RunningMean()

    def step(x):
        y = x * w
        state.moving_mean = (0.9 * state.moving_mean + 0.1 * y.detach()).data
        loss = y.sum()
        loss.backward()
        return loss

    def run(f):
        state.moving_mean = torch.zeros(3)
        out = []
        for i in range(6):
            f(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) * (i + 1))
            out.append((state.moving_mean.dtype, state.moving_mean.tolist()))
        return out

    eager = run(step)
    f = torch.compile(step, backend="interpret")
    assert run(f) == eager
    assert f.stats()["traces"] <= 3 and f.stats()["fallbacks"] == 0, f.stats()
