"""A float the step reads from a global, an attribute, a dict or list entry or a closure cell that
changes between calls becomes a per-call graph input (tracer/symbolic.py, SymbolicFloat), as
`param_groups`' lr is: after its first change one trace serves every later value, and every
call equals eager (interpret backend: bit for bit; cpu: within float32 drift)."""
import math
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit.runtime.guards import describe_guards

from .test_values import run_side_by_side

LR = 0.1


def _global_lr_program():
    w = torch.randn(3, 2, requires_grad=True)
    x = torch.randn(4, 3)

    def step():
        loss = ((x @ w) * (1 - LR)).pow(2).mean()     # arithmetic on the float, then a tensor op
        loss.backward()
        with torch.no_grad():
            w.sub_(LR * w.grad)
            w.add_(w, alpha=-LR / 10)                 # `alpha != 1` is a condition, not the value
            w.grad = None
        return loss
    return step, (), [w]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_global_lr_changed_every_call_is_read_per_call(backend):
    global LR

    def change(i, _):
        global LR
        LR = 0.1 / (1 + i)
    try:
        c = run_side_by_side(_global_lr_program, 12, change, backend=backend)
    finally:
        LR = 0.1
    st = c.stats()
    # the first value, then one trace reading LR per call: no trace for the ten later values
    assert st["traces"] == 2 and st["mode"] == "tree" and st["fallbacks"] == 0, st
    leaf = c.traces[-1]
    assert [p.label for p in leaf.py_inputs] == ["global LR"]
    assert "global LR: read every call" in describe_guards(leaf)


class Scaled:
    def __init__(self):
        self.w = torch.randn(3, requires_grad=True)
        self.x = torch.randn(3)
        self.lr = 0.1
        self.cfg = {"scale": 2.0}
        self.lrs = [0.5, 1.0]

    def step(self):
        loss = (self.w * self.x * self.cfg["scale"]).sum() ** 2
        loss.backward()
        with torch.no_grad():
            self.w.sub_(self.lr * self.w.grad / self.cfg["scale"] * self.lrs[1])
            self.w.grad = None
        return loss


def test_attributes_dict_entries_and_closure_cells():
    def make():
        s = Scaled()
        decay = 0.9

        def step():
            loss = s.step()
            with torch.no_grad():
                s.w.mul_(decay)
            return loss

        def set_decay(v):
            nonlocal decay
            decay = v
        return step, (), [s.w], (s, set_decay)

    def change(i, prog):
        s, set_decay = prog[3]
        s.lr = 0.1 * (i + 1)
        s.cfg["scale"] = 1.0 + i / 4
        set_decay(1.0 - i / 100)
        s.lrs[1] = 1.0 + i / 8
    c = run_side_by_side(make, 10, change)
    st = c.stats()
    # one trace per float at its first change (they all change on call 1: one miss lifts the
    # first guard that fails; the next calls lift the others), then none
    assert st["traces"] <= 6 and st["mode"] == "tree" and st["fallbacks"] == 0, st
    labels = {p.label for p in c.traces[-1].py_inputs}
    assert labels == {"closure variable s.lr", "closure variable s.cfg['scale']",
                      "closure variable decay", "closure variable s.lrs[1]"}, labels


P = 0.5


def test_python_uses_of_the_float_stay_exact():
    """A comparison guards its outcome; math.exp needs the value itself (an exact use): every
    call still equals eager. (Such a step is traced on every call once the float changed on
    two calls in a row, and a new literal per value reaches the recompile limit: eager.)"""
    global P
    w = torch.ones(3, requires_grad=True)

    def step(x):
        loss = (x * w).sum() * math.exp(P)
        if P > 0.3:
            loss = loss * P
        return loss

    c = torch.compile(step, backend="interpret")
    values = [0.5, 0.4, 0.2, 0.25, 0.6, 0.6, 0.35, 0.1, 0.9, 0.9]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, P in enumerate(values):
                x = torch.full((3,), float(i))
                assert c(x).item() == step(x).item(), i
    finally:
        P = 0.5
    assert c.stats()["stale"] == 0


def test_a_float_that_becomes_an_int_retraces():
    global P
    w = torch.ones(3)

    def step(x):
        return (x * w * P).sum()

    c = torch.compile(step, backend="interpret")
    try:
        for P in (0.5, 0.25, 0.75, 2, 3, 1.5):
            x = torch.arange(3.0)
            got, want = c(x), step(x)
            assert got.dtype == want.dtype and got.item() == want.item()
    finally:
        P = 0.5


def test_python_that_tests_for_a_float_sees_one():
    """`isinstance(lr, float)` in the step is True for the SymbolicFloat standing in (its
    __class__ says float), so the step takes the path it takes eagerly, not a silent other one."""
    global P
    w = torch.ones(3)

    def step(x):
        scale = P if isinstance(P, float) else 1.0
        return (x * w * scale).sum()

    c = torch.compile(step, backend="interpret")
    try:
        for P in (0.5, 0.25, 0.75, 0.125):
            x = torch.arange(3.0)
            assert c(x).item() == step(x).item()
    finally:
        P = 0.5
    assert c.stats()["traces"] == 2 and c.stats()["mode"] == "tree"


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_float_argument_is_read_per_call(backend):
    """`step(x, lr)` with a new lr each call (a schedule computed by the caller): the float
    argument becomes a per-call input at its first change (torch.compile makes a float input
    dynamic at its first recompile), so 12 values make 2 traces, not 8 and then eager; a
    comparison on it guards its outcome, and an int at that position retraces."""
    w0 = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
    runs = []
    for compiled in (False, True):
        w = torch.tensor(w0, requires_grad=True)
        x = torch.arange(12.0, dtype=torch.float64).reshape(4, 3) / 10

        def step(x, lr):
            loss = ((x @ w) * (1 + lr)).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                w.sub_(lr * w.grad if lr < 0.05 else lr / 2 * w.grad)
                w.grad = None
            return loss

        fn = torch.compile(step, backend=backend) if compiled else step
        lrs = [0.1 * 0.8 ** i for i in range(12)] + [1]
        runs.append(([fn(x, lr).item() for lr in lrs], w.detach().numpy().copy(), fn))
    (want, w_want, _), (got, w_got, c) = runs
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(w_got, w_want, rtol=1e-13)
    st = c.stats()
    # first value; the float read per call; its `lr < 0.05` outcome flips; the int 1 at the end
    assert st["traces"] <= 4 and st["fallbacks"] == 0 and st["mode"] == "tree", st
    assert "argument lr: read every call" in describe_guards(c.traces[1])
