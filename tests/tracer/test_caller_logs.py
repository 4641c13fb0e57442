"""A training loop that logs after each compiled call (`self.history.append(loss.item())`,
`record(loss)` appending to a module-level list) must not make the step retrace on every
call: the list grows between calls, but the step never reads it. The guards' search
(tracer/values.py, helpers.py) leaves out the functions running the loop (the step's callers)
and the constructors of objects that already exist, and guards a list's length only when a
name the step's code may use reaches it. A step that does read the log's length still
follows it on the very next call. Each program runs eagerly and compiled (same seeds), and
every call's loss must be equal."""
import warnings

import numpy as np

import stepjit as torch
import stepjit.nn as nn

LOG = []


def record(loss):
    LOG.append(float(loss))


def _data():
    torch.manual_seed(0)
    return nn.Linear(4, 1), torch.randn(8, 4), torch.randn(8, 1)


class ClosureTrainer:
    """The step is a closure made inside the method whose loop calls it; the loop hands each
    loss to a module-level helper that appends to a module-level list."""

    def __init__(self, compiled):
        self.net, self.x, self.y = _data()
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.1)
        self.compiled = compiled

    def fit(self, calls):
        def step():
            loss = ((self.net(self.x) - self.y) ** 2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            return loss
        if self.compiled:
            step = torch.compile(step, backend="interpret")
        for _ in range(calls):
            record(step())
        return step


class MethodTrainer:
    """A compiled method; the method that calls it appends each loss to self.history."""

    def __init__(self):
        self.net, self.x, self.y = _data()
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.1)
        self.history = []

    def step(self):
        loss = ((self.net(self.x) - self.y) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def fit(self, calls):
        for _ in range(calls):
            self.history.append(self.step().item())


class DecayingTrainer(MethodTrainer):
    """The step reads the log's length (a step-count schedule): it must follow it."""

    def step(self):
        loss = ((self.net(self.x) - self.y) ** 2).mean() / (1 + len(self.history))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a recompile-limit warning fails the test
        return fn()


def test_a_closure_step_whose_loop_logs_through_a_helper_is_not_retraced():
    LOG.clear()
    ClosureTrainer(compiled=False).fit(12)
    eager = list(LOG)
    LOG.clear()
    step = _quiet(lambda: ClosureTrainer(compiled=True).fit(12))
    np.testing.assert_allclose(LOG, eager, rtol=1e-6)
    stats = step.stats()
    assert stats["fallbacks"] == 0
    assert stats["traces"] <= 4, [e["reason"] for e in step.events]


def _compiled_fit(cls, calls):
    t = cls()
    t.step = torch.compile(t.step, backend="interpret")
    _quiet(lambda: t.fit(calls))
    return t


def test_a_compiled_method_whose_caller_appends_to_self_history_is_not_retraced():
    eager = MethodTrainer()
    eager.fit(12)
    t = _compiled_fit(MethodTrainer, 12)
    np.testing.assert_allclose(t.history, eager.history, rtol=1e-6)
    stats = t.step.stats()
    assert stats["fallbacks"] == 0
    assert stats["traces"] <= 4, [e["reason"] for e in t.step.events]


def test_a_step_that_reads_the_logs_length_follows_it():
    eager = DecayingTrainer()
    eager.fit(5)
    t = DecayingTrainer()
    t.step = torch.compile(t.step, backend="interpret")
    t.fit(5)
    np.testing.assert_allclose(t.history, eager.history, rtol=1e-6)
    reasons = [e.get("reason") or "" for e in t.step.events]
    assert any("history" in r for r in reasons), reasons
