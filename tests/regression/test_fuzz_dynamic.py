"""The dynamic fuzzer: one small training step, called again and again, with the Python state it
reads changed between calls, in every way a script changes it:

  a float global, an int global read in control flow, a float in a closure cell, float and
  bool attributes, dict and list entries, a list grown, the optimizer's lr, train()/eval()
  between calls and train() inside the step, a requires_grad flip, a new batch size, a tensor
  rebound between calls (and one the step rebinds itself), Python random draws in the step.

Hypothesis draws the sequence of changes (each followed by one or two calls, so that cached
traces are replayed, not only retraced). Every call of the compiled step is checked against
eager on a twin copy of the program, with the same seeds: the loss, the parameters, the state
the step rebinds and the modules' modes. Most examples run on the interpret backend (bit for
bit); about one in sixteen on cpu, whose kernels the examples share (one model, batch sizes
2-4; a cold kernel cache compiles them once, ~10 s).
No call may be stale: every one equals eager, no re-verification finds a stale trace
(stats()["stale"] == 0: the guards caught every change), and nothing falls back to eager."""
import gc
import os
import random
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import stepjit as torch
import stepjit.nn as nn

SCALE = 1.0
COUNT = 0
CHANGES = ("global", "int", "cell", "attribute", "flag", "dict", "list", "append", "opt_lr",
           "mode", "train_in_step", "requires_grad", "shape", "rebind", "none")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.25)
        self.gain = 1.0
        self.flip = False

    def forward(self, x):
        y = self.drop(self.lin(x)) * self.gain
        if self.flip:
            y = -y
        return y if self.training else y + 1.0


def _program(draws):
    torch.manual_seed(0)
    net = Net()
    state = {"net": net, "cfg": {"p": 0.5}, "lrs": [0.1, 0.05], "shift": torch.ones(2),
             "avg": torch.zeros(2), "train_in_step": False,
             "opt": torch.optim.SGD(net.parameters(), lr=0.05)}
    decay = 1.0

    def step(x):
        if state["train_in_step"]:
            net.train()
        h = net(x) + state["shift"]
        if draws:
            h = h * float(random.randint(1, 3))
        loss = (h * SCALE * state["cfg"]["p"] * decay).pow(2).mean()
        if COUNT % 3 == 0:
            loss = loss * 1.5
        state["opt"].zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                if p.grad is not None:
                    p.sub_(state["lrs"][1] * p.grad)
            if not draws:   # (traced every call, a rebinding costs a full gc per call)
                state["avg"] = 0.9 * state["avg"] + 0.1 * h.mean(0)   # rebound by the step
        state["opt"].step()
        return loss

    def set_decay(value):
        nonlocal decay
        decay = value
    state["set_decay"] = set_decay
    return step, state


def _change(kind, k, state):
    global SCALE, COUNT
    net = state["net"]
    if kind == "global":
        SCALE = 1.0 + 0.5 * (k % 3)
    elif kind == "int":
        COUNT += 1
    elif kind == "cell":
        state["set_decay"](1.0 - 0.125 * (k % 4))
    elif kind == "attribute":
        net.gain = 1.0 + 0.25 * k
    elif kind == "flag":
        net.flip = not net.flip
    elif kind == "dict":
        state["cfg"]["p"] = 0.5 + 0.1 * k
    elif kind == "list":
        state["lrs"][1] = 0.05 * (1 + k % 2)
    elif kind == "append":
        state["lrs"].append(0.5)
    elif kind == "opt_lr":
        state["opt"].param_groups[0]["lr"] = 0.01 * (1 + k)
    elif kind == "mode":
        net.train(not net.training)
    elif kind == "train_in_step":
        state["train_in_step"] = not state["train_in_step"]
        net.eval()
    elif kind == "requires_grad":
        b = net.lin.bias
        b.requires_grad_(not b.requires_grad)
    elif kind == "rebind":
        state["shift"] = torch.full((2,), float(k))


def _batch(kind, k, rows):
    g = np.random.default_rng(k)
    n = rows + (k % 2 if kind == "shape" else 0)
    return torch.tensor(g.standard_normal((n, 3)).astype(np.float32))


def _observed(loss, state):
    net = state["net"]
    return ([loss.detach().numpy(), state["avg"].numpy().copy(), state["shift"].numpy().copy()]
            + [p.detach().numpy().copy() for p in net.parameters()],
            [m.training for m in net.modules()])


def _same(a, b, exact):
    if exact:
        return np.array_equal(a, b)
    return np.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.fixture(autouse=True)
def _frozen_heap():
    """A trace collects the young generations to find state that escaped the step; objects
    that exist before the test (hypothesis, Numba) are frozen so that it does not scan them
    (test_fuzz.py does the same)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


EXAMPLES = int(os.environ.get("STEPJIT_FUZZ_EXAMPLES", 200))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(changes=st.lists(st.tuples(st.sampled_from(CHANGES), st.integers(1, 2)), min_size=2,
                        max_size=6),
       draws=st.integers(0, 3), rows=st.integers(2, 3), backend=st.integers(0, 15))
def test_changes_between_calls_are_never_stale(changes, draws, rows, backend):
    global SCALE, COUNT
    backend = "cpu" if backend == 0 else "interpret"
    draws = draws == 0     # a step traced on every call: one example in four
    SCALE, COUNT = 1.0, 0
    eager_step, eager_state = _program(draws)
    step, state = _program(draws)
    compiled = torch.compile(step, backend=backend, recompile_limit=100)
    calls = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, (kind, repeat) in enumerate(changes):
                for fn, s in ((eager_step, eager_state), (step, state)):
                    _change(kind, k, s)
                for r in range(repeat):
                    seen = []
                    for fn, s in ((eager_step, eager_state), (compiled, state)):
                        random.seed(k)
                        torch.manual_seed(10 * k + r)
                        seen.append(_observed(fn(_batch(kind, k, rows)), s))
                    calls += 1
                    (want, modes), (got, cmodes) = seen
                    assert modes == cmodes, (k, kind, r)
                    for a, b in zip(want, got):
                        assert _same(a, b, backend == "interpret"), (k, kind, r, a, b)
    finally:
        SCALE, COUNT = 1.0, 0
    st_ = compiled.stats()
    assert st_["stale"] == 0 and st_["fallbacks"] == 0, st_
    assert st_["calls"] == calls


@pytest.mark.parametrize("kind", ["global", "cell", "attribute", "dict", "list", "opt_lr"])
def test_a_float_changed_on_every_call_is_read_per_call(kind):
    """The fuzzer's floats changed before every call: read per call after their first change
    (tracer/symbolic.py), so three traces serve twelve calls."""
    global SCALE
    SCALE = 1.0
    eager_step, eager_state = _program(False)
    step, state = _program(False)
    compiled = torch.compile(step, backend="interpret")
    try:
        for k in range(12):
            for fn, s in ((eager_step, eager_state), (compiled, state)):
                _change(kind, k + 1, s)
            seen = []
            for fn, s in ((eager_step, eager_state), (compiled, state)):
                torch.manual_seed(k)
                seen.append(_observed(fn(_batch("none", k, 3)), s))
            for a, b in zip(seen[0][0], seen[1][0]):
                assert np.array_equal(a, b), (k, kind)
    finally:
        SCALE = 1.0
    st_ = compiled.stats()
    # the first call's (no .grad yet), the second's (its guard on .grad failed first, so the
    # value's change is seen on the third call), then the one reading it per call
    assert st_["traces"] <= 3 and st_["mode"] == "tree" and st_["fallbacks"] == 0, st_
