"""A compiled model with Dropout follows train()/eval() switches between calls (the trace
depends on `self.training`, which is guarded): torch.compile(model) and a @compile'd step,
each call against eager with the same random stream."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import nn


def _model():
    torch.manual_seed(4)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))


def _same(a, b, backend):
    if backend == "interpret":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_model_follows_train_and_eval(backend):
    model = _model()
    compiled = torch.compile(model, backend=backend)
    x = torch.randn(16, 8)
    for mode in ("train", "eval", "train", "eval", "eval", "train"):
        getattr(model, mode)()
        torch.manual_seed(9)
        want = model(x).detach().numpy()
        torch.manual_seed(9)
        got = compiled(x).detach().numpy()
        _same(got, want, backend)
        with torch.no_grad():   # what dropout does in each mode, seen on the hidden layer
            r = model[1](model[0](x))
            h = model[2](r)
        zeros = int((h.numpy() == 0).sum()) - int((r.numpy() == 0).sum())
        assert (zeros > 0) == (mode == "train")
    torch.manual_seed(9)
    model.train()
    assert not np.array_equal(compiled(x).detach().numpy(), compiled(x).detach().numpy())


def _train_and_eval_steps():
    """A model with a train step that calls model.train() and an eval step that calls
    model.eval(): the pair a training script alternates."""
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def train_step(x, y):
        model.train()
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def eval_step(x, y):
        model.eval()
        with torch.no_grad():
            return ((model(x) - y) ** 2).mean()
    return model, train_step, eval_step


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_step_follows_train_and_eval(backend):
    me, te, ee = _train_and_eval_steps()
    mc, tc, ec = _train_and_eval_steps()
    tc, ec = torch.compile(tc, backend=backend), torch.compile(ec, backend=backend)
    torch.manual_seed(2)
    data = [(torch.randn(16, 8), torch.randn(16, 2)) for _ in range(6)]
    for k, (x, y) in enumerate(data):
        for step_e, step_c in ((te, tc), (ee, ec), (ee, ec)):
            torch.manual_seed(100 + k)
            le = step_e(x, y).item()
            torch.manual_seed(100 + k)
            lc = step_c(x, y).item()
            _same(np.float32(lc), np.float32(le), backend)
        for a, b in zip(mc.parameters(), me.parameters()):
            _same(a.detach().numpy(), b.detach().numpy(), backend)
    assert tc.stats()["fallbacks"] == 0 and ec.stats()["fallbacks"] == 0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_train_inside_the_step_after_an_eval_step_is_replayed(backend):
    """`model.train()` at the top of a train step that follows an eval step: the trace read
    training=False and set it True. It guards the value read and sets True again after each
    replayed call (values.PyWrite), so the step stays compiled: two traces (after eval, after
    train), no per-call tracing, every call equal to eager with the same dropout masks."""
    me, te, ee = _train_and_eval_steps()
    mc, tc, ec = _train_and_eval_steps()
    tc, ec = torch.compile(tc, backend=backend), torch.compile(ec, backend=backend)
    torch.manual_seed(2)
    data = [(torch.randn(16, 8), torch.randn(16, 2)) for _ in range(8)]
    for k, (x, y) in enumerate(data):
        if k == 4:
            traces = (tc.stats()["traces"], ec.stats()["traces"])
        steps = ((te, tc), (te, tc), (ee, ec)) if k % 2 else ((ee, ec), (te, tc))
        for step_e, step_c in steps:
            torch.manual_seed(100 + k)
            le = step_e(x, y).item()
            torch.manual_seed(100 + k)
            lc = step_c(x, y).item()
            _same(np.float32(lc), np.float32(le), backend)
            assert mc.training == me.training and mc[2].training == me[2].training
        for a, b in zip(mc.parameters(), me.parameters()):
            _same(a.detach().numpy(), b.detach().numpy(), backend)
    for f in (tc, ec):
        st = f.stats()
        assert st["mode"] == "tree" and st["fallbacks"] == 0 and st["stale"] == 0, st
    # train_step: training read False (set True) with no .grad yet, then with .grad, and read
    # True (set nothing); eval_step: read True (set False) and read False. None after that.
    assert tc.stats()["cached_traces"] == 3 and ec.stats()["cached_traces"] == 2
    assert (tc.stats()["traces"], ec.stats()["traces"]) == traces
    assert any(w.label.endswith(".training") and w.value is True
               for tr in tc.traces for w in tr.py_writes)
