"""Programs whose optimizer renamed an output: the runtime still finds every value it reads.

The optimizer may replace a segment's export, a leaf's result or a written value by another
value (`x * 1.0` is `x`; a (1, n) bias's gradient reshape is dropped). The program computes the
optimized graph's values; the runtime reads the traced graph's. Each test here failed before
the program aliased one to the other (cpu.output_aliases): a KeyError after a data-dependent
branch went the way first untraced, a call re-evaluating the graph in the IR interpreter, a
Numba TypingError on a 0-dim parameter's `reshaped(v, ())` in a native program.
"""
import numpy as np
import pytest

import stepjit as torch
from stepjit.programs import cpu
from stepjit.runtime.tree import clear_programs

from .helpers import assert_same, snapshot


@pytest.fixture
def interpreter_calls(monkeypatch):
    """How many times a cpu program fell back to the IR interpreter for a value it lacked."""
    calls = []
    original = cpu._Env.__missing__

    def counted(env, v):
        calls.append(v)
        return original(env, v)
    monkeypatch.setattr(cpu._Env, "__missing__", counted)
    return calls


def _branchy(w):
    def f(x):
        res = (x @ w) * 1.0
        if res.sum() > 1.0:
            res = res + 1
        return res
    return f


def test_value_before_a_branch_used_after_it_on_both_ways(interpreter_calls):
    clear_programs()
    torch.manual_seed(3)
    w = torch.randn(4, 3)
    f = _branchy(w)
    compiled = torch.compile(f, backend="cpu")
    ways = set()
    for _ in range(16):
        x = torch.randn(5, 4)
        expect = f(x)
        ways.add(bool((x @ w).sum().item() > 1.0))
        assert_same(expect.numpy(), compiled(x).numpy(), exact=False)
    assert ways == {True, False}
    assert compiled.stats()["cached_traces"] == 2 and compiled.stats()["fallbacks"] == 0
    assert interpreter_calls == []


def _bias_program():
    torch.manual_seed(0)
    W = torch.randn(4, 3, requires_grad=True)
    b = torch.zeros(1, 3, requires_grad=True)      # (1, n): broadcast against (batch, n)
    opt = torch.optim.SGD([W, b], lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = ((x @ W + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step, [W, b]


def test_row_parameter_never_runs_the_interpreter(interpreter_calls):
    clear_programs()
    data = [(torch.randn(8, 4), torch.randn(8, 3)) for _ in range(8)]
    step, state = _bias_program()
    eager = [snapshot(step(*xy), state) for xy in data]
    step, state = _bias_program()
    compiled = torch.compile(step, backend="cpu")
    for e, xy in zip(eager, data):
        got = snapshot(compiled(*xy), state)
        for part in range(3):
            for a, b in zip(e[part], got[part]):
                assert_same(a, b, exact=False)
    assert interpreter_calls == []


def _polynomial():
    """The official polynomial tutorials' parameters: four 0-dim tensors."""
    torch.manual_seed(0)
    x = torch.linspace(-3.0, 3.0, 50)
    y = torch.sin(x)
    params = [torch.randn((), requires_grad=True) for _ in range(4)]

    def step():
        a, b, c, d = params
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 1e-4 * p.grad
                p.grad = None
        return loss
    return step, params


def test_zero_dim_parameters_in_a_native_program(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")       # native at once, not at the 65th call
    clear_programs()
    step, params = _polynomial()
    eager = [snapshot(step(), params) for _ in range(4)]
    step, params = _polynomial()
    compiled = torch.compile(step, backend="cpu")
    got = [snapshot(compiled(), params) for _ in range(4)]
    for e, c in zip(eager, got):
        for part in range(3):
            for a, b in zip(e[part], c[part]):
                assert_same(a, b, exact=False)
    natives = [p for _, p in compiled.programs.values() if getattr(p, "native", None) is not None]
    assert natives, "the step's program should have gone native"


def _printing_step():
    """The shape of an LSTM tutorial step that printed its loss mid-step (once in three runs a
    KeyError from the interpreter fallback): a decision between the forward and the backward
    cuts the step in two, and the backward segment reads forward values the optimizer renamed."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        h = x
        for _ in range(2):                           # a recurrence through one layer
            h = torch.tanh(model[0](h[:, :3] * 1.0) @ torch.ones(5, 3))
        loss = ((model(h) - y) ** 2).mean()
        print(f"loss {loss.item():.6f}")
        loss.backward()
        opt.step()
        return loss
    return step, list(model.parameters())


def test_step_printing_its_loss_mid_step(capsys, interpreter_calls):
    clear_programs()
    torch.manual_seed(5)
    data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(4)]
    step, state = _printing_step()
    eager = [snapshot(step(*d), state) for d in data]
    printed = capsys.readouterr().out
    step, state = _printing_step()
    compiled = torch.compile(step, backend="cpu")
    for e, d in zip(eager, data):
        got = snapshot(compiled(*d), state)
        for part in range(3):
            for a, b in zip(e[part], got[part]):
                assert_same(a, b, exact=False)
    assert capsys.readouterr().out == printed     # a line per call, each call's own loss
    assert compiled.stats()["fallbacks"] == 0
    assert interpreter_calls == []
