"""A dynamic fuzzer: one small training step, called several times, with Python state changed
between calls (a global, an attribute, a dict entry, a list entry, train()/eval(), a
requires_grad flip, a new batch shape, a tensor rebound, a Python random draw inside the step).
Every call is checked compiled (interpret backend: bit for bit) against eager on a twin copy of
the program: no call may return a stale result."""
import random
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import stepjit as torch
import stepjit.nn as nn

SCALE = 1.0
CHANGES = ("global", "attribute", "dict", "list", "mode", "requires_grad", "shape", "rebind",
           "none")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.25)
        self.gain = 1.0

    def forward(self, x):
        y = self.drop(self.lin(x)) * self.gain
        return y if self.training else y + 1.0


def _program(draws):
    torch.manual_seed(0)
    state = {"net": Net(), "cfg": {"p": 0.5}, "lrs": [0.1, 0.05], "shift": torch.ones(2)}
    net = state["net"]

    def step(x):
        h = net(x) + state["shift"]
        if draws:
            h = h * float(random.randint(1, 3))
        loss = (h * SCALE * state["cfg"]["p"]).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                if p.grad is not None:
                    p.sub_(state["lrs"][1] * p.grad)
                    p.grad = None
        return loss
    return step, state


def _change(kind, k, state):
    global SCALE
    if kind == "global":
        SCALE = 1.0 + 0.5 * (k % 3)
    elif kind == "attribute":
        state["net"].gain = 1.0 + 0.25 * k
    elif kind == "dict":
        state["cfg"]["p"] = 0.5 + 0.1 * k
    elif kind == "list":
        state["lrs"][1] = 0.05 * (1 + k % 2)
    elif kind == "mode":
        state["net"].train(not state["net"].training)
    elif kind == "requires_grad":
        b = state["net"].lin.bias
        b.requires_grad_(not b.requires_grad)
    elif kind == "rebind":
        state["shift"] = torch.full((2,), float(k))


def _batch(kind, k, rows):
    g = np.random.default_rng(k)
    n = rows + (k % 2 if kind == "shape" else 0)
    return torch.tensor(g.standard_normal((n, 3)).astype(np.float32))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.lists(st.sampled_from(CHANGES), min_size=2, max_size=5),
       draws=st.booleans(), rows=st.integers(2, 3))
def test_changes_between_calls_are_never_stale(changes, draws, rows):
    global SCALE
    SCALE = 1.0
    eager_step, eager_state = _program(draws)
    SCALE = 1.0
    step, state = _program(draws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = torch.compile(step, backend="interpret")
        try:
            for k, kind in enumerate(changes):
                results = []
                for fn, s in ((eager_step, eager_state), (compiled, state)):
                    _change(kind, k, s)
                    random.seed(k)
                    torch.manual_seed(k)
                    results.append((fn(_batch(kind, k, rows)).detach().numpy(),
                                    [p.detach().numpy().copy() for p in s["net"].parameters()]))
                (e_loss, e_params), (c_loss, c_params) = results
                assert np.array_equal(e_loss, c_loss), (k, kind, e_loss, c_loss)
                for a, b in zip(e_params, c_params):
                    assert np.array_equal(a, b), (k, kind)
        finally:
            SCALE = 1.0
    assert compiled.stats()["fallbacks"] == 0 or compiled.stats()["traces"] >= 8
