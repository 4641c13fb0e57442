"""A loop that makes a new meter, log or stats dict per epoch (`meter = AverageMeter()`,
`metric = Accumulator(3)`, `losses = []`) and a compiled step that updates it: the trace reads
and writes the entries of the object it met, so every link from the step's names to that object
is guarded by identity (values.path_guards) and a new object retraces. A replay must never
update the previous epoch's object while the new one stays untouched. Such a retrace is one per
epoch (the numbers read per call in the old object are read per call in the new one) and is
not counted by the recompile limit (runtime/compiled.py _renewed), so a long run stays
compiled."""
import numpy as np
import pytest

import stepjit as torch

EPOCHS, CALLS = 3, 4


class Meter:
    def __init__(self):
        self.total = 0.0
        self.n = 0


def _loop(compiled, kind, backend="interpret", epochs=EPOCHS):
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    seen = []
    meter = None

    def step():
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if kind == "meter":
            meter.total += loss.item()
            meter.n += 1
        elif kind == "log":
            meter.append(loss.item())
        else:
            meter["n"] += 8
            meter["loss"] += loss.item() * 8
        return loss

    f = torch.compile(step, backend=backend) if compiled else step
    for _ in range(epochs):
        meter = Meter() if kind == "meter" else [] if kind == "log" else {"n": 0, "loss": 0.0}
        for _ in range(CALLS):
            loss = f()
            state = dict(vars(meter)) if kind == "meter" else type(meter)(meter)
            seen.append((loss.item(), state))     # after every call, not at the end
    return seen, f


@pytest.mark.parametrize("kind", ["meter", "log", "dict"])
def test_a_new_object_per_epoch_is_the_one_updated(kind):
    want, _ = _loop(False, kind)
    got, f = _loop(True, kind)
    assert got == want
    st = f.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree", st


def test_a_new_object_per_epoch_on_the_cpu_backend():
    want, _ = _loop(False, "meter")
    got, f = _loop(True, "meter", "cpu")
    assert len(got) == len(want)
    for (lw, sw), (lg, sg) in zip(want, got):
        np.testing.assert_allclose(lg, lw, rtol=1e-6)
        assert sg["n"] == sw["n"] and type(sg["total"]) is float
        np.testing.assert_allclose(sg["total"], sw["total"], rtol=1e-6)


@pytest.mark.parametrize("kind", ["meter", "dict"])
def test_many_epochs_stay_compiled(kind):
    want, _ = _loop(False, kind, epochs=12)
    got, f = _loop(True, kind, epochs=12)
    assert got == want
    st = f.stats()
    # one trace per epoch and one more (the first epoch's values read per call); past the
    # recompile limit (8) with no eager fallback
    assert st["fallbacks"] == 0 and st["traces"] <= 12 + 2, st
