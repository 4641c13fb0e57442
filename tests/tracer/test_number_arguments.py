"""Numbers passed as keyword arguments and inside tuple, list or dict arguments are read per call
from their first change, as a positional float or int is (runtime/compiled.py `_int_args_changed`,
symbolic.ArgNumber): torch.compile makes any int or float input dynamic at its first recompile.
Two numbers read per call combined (`lr * betas[0]`, `self.n_epochs += 1. / self.iters`) are
computed by the graph (symbolic.py `_joint`, a PerCallNumber), not guarded to their values.
Every call is compared with eager (float64: bit for bit on the interpret backend)."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.runtime.guards import describe_guards

LR = 0.1
MOM = 0.9


def _sgd_program():
    torch.manual_seed(3)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(8, 4, dtype=torch.float64)

    def step(x, lr=0.1, betas=(0.9, 0.99), scale=1, extra=None):
        loss = ((x @ w) * scale).pow(2).mean() * betas[1]
        if extra is not None:
            loss = loss * extra["gain"][0]
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * betas[0] * w.grad)
            w.grad.zero_()
        return loss
    return w, x, step


def _run(calls, backend, compiled):
    w, x, step = _sgd_program()
    f = torch.compile(step, backend=backend) if compiled else step
    seen = []
    for kwargs in calls:
        loss = f(x, **kwargs)
        seen.append((loss.item(), w.detach().numpy().copy()))
    return seen, f


def _check(calls, backend):
    want, _ = _run(calls, backend, False)
    got, f = _run(calls, backend, True)
    rtol = 0 if backend == "interpret" else 1e-12
    for (a, wa), (b, wb) in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol)
        np.testing.assert_allclose(wa, wb, rtol=rtol)
    return f


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_keyword_and_tuple_numbers_are_read_per_call(backend):
    """A decaying lr as a keyword, a float in a tuple and an int keyword used as a tensor
    operand: 20 calls, all new values, make 2 traces (was 8 traces and 12 eager calls)."""
    calls = [dict(lr=0.1 / (1 + i), betas=(0.9 - 0.01 * i, 0.99), scale=1 + i % 3)
             for i in range(20)]
    f = _check(calls, backend)
    st = f.stats()
    assert st["traces"] == 2 and st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    assert st["mode"] == "tree", st
    text = describe_guards(f.traces[-1])
    for label in ("argument lr", "argument betas[0]", "argument scale"):
        assert f"{label}: read every call" in text, text


def test_numbers_in_a_dict_argument_and_the_callers_containers():
    """A float inside a list inside a dict argument is read per call too, and the caller's
    containers are never changed (they are copied where an ArgNumber takes a number's place)."""
    calls = [dict(extra={"gain": [1.0 + 0.1 * i]}) for i in range(6)]
    f = _check(calls, "interpret")
    assert f.stats()["traces"] == 2 and f.stats()["fallbacks"] == 0, f.stats()
    gains = [[1.5], [2.5]]
    _, x, step = _sgd_program()
    c = torch.compile(step, backend="interpret")
    for g in gains * 2:
        arg = {"gain": g}
        c(x, extra=arg)
        assert arg == {"gain": g} and type(arg["gain"][0]) is float


def test_a_keyword_int_read_exactly_still_guards_its_value():
    """An int keyword that sets a shape (`x[:k]`) is read exactly: a trace per value, each
    call equal to eager, a new value never replays another's trace."""
    w = torch.ones(5, dtype=torch.float64, requires_grad=True)

    def step(x, k=2):
        loss = (x[:k] * w[:k]).sum()
        loss.backward()
        return loss
    c = torch.compile(step, backend="interpret")
    x = torch.arange(5.0, dtype=torch.float64)
    for k in (2, 3, 4, 3, 2):
        assert c(x, k=k).item() == float(sum(range(k)))


def test_two_numbers_read_per_call_combine_in_the_graph():
    """Two globals read per call multiplied (`LR * MOM`) are one graph value: after their first
    change one trace serves every later pair (was: both guarded to their values, a trace per
    call up to the recompile limit, then the step traced on every call)."""
    global LR, MOM
    runs = []
    try:
        for compiled in (False, True):
            torch.manual_seed(1)
            LR, MOM = 0.1, 0.9
            w = torch.randn(3, dtype=torch.float64, requires_grad=True)

            def step(x):
                loss = (x * w).pow(2).sum()
                loss.backward()
                with torch.no_grad():
                    w.sub_(LR * MOM * w.grad)
                    w.grad = None
                return loss
            f = torch.compile(step, backend="interpret") if compiled else step
            out = []
            for i in range(12):
                LR, MOM = 0.1 / (1 + i), 0.9 - 0.02 * i
                out.append((f(torch.arange(3.0, dtype=torch.float64)).item(),
                            w.detach().numpy().copy()))
            runs.append((out, f))
    finally:
        LR, MOM = 0.1, 0.9
    (want, _), (got, f) = runs
    for (a, wa), (b, wb) in zip(got, want):
        assert a == b and (wa == wb).all()
    st = f.stats()
    assert st["traces"] <= 3 and st["fallbacks"] == 0 and st["mode"] == "tree", st
    assert st["eager_calls"] == 0, st
