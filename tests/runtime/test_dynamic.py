"""Issue 6: dynamic control flow. Each program runs 50 steps eagerly and compiled (interpret and
cpu backends), must match eager step for step (results, parameters, .grad), and its trace and
program-build counts are asserted with the reason for each.

A program is `make()` -> dict(step, args (one tuple per step), state (tensors to compare),
before (optional hook called with the step index before each call, e.g. an lr schedule)).
"""
import warnings

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
from stepjit.runtime.tree import clear_programs
from stepjit.tracer.pytree import flatten

from .helpers import check_graph

STEPS = 50
BACKENDS = ["interpret", "cpu"]


@pytest.fixture(autouse=True)
def _fresh_program_cache():
    clear_programs()    # programs are shared across functions: count builds from zero
    yield


def _leaves(result):
    leaves, tree = flatten(result, lambda x: isinstance(x, (torch.Tensor, float, int)))
    return [np.array(x.detach().numpy()) if isinstance(x, torch.Tensor) else np.array(x)
            for x in leaves], tree


def _snapshot(result, state):
    out, tree = _leaves(result)
    return (out, [np.array(p.detach().numpy()) for p in state],
            [None if p.grad is None else np.array(p.grad.numpy()) for p in state], tree)


def _same(a, b, exact):
    assert (a is None) == (b is None)
    if a is None:
        return
    assert a.shape == b.shape
    if exact:
        assert a.dtype == b.dtype and np.array_equal(a, b), np.max(np.abs(a - b))
    else:
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def run_both(make, backend, **options):
    """50 steps eager, then 50 compiled on a fresh copy; compare every step; return the
    compiled function and the two programs (eager's, compiled's)."""
    exact = backend == "interpret"
    eager_prog = make()
    eager = []
    for i, args in enumerate(eager_prog["args"]):
        if eager_prog.get("before"):
            eager_prog["before"](i)
        eager.append(_snapshot(eager_prog["step"](*args), eager_prog["state"]))
    prog = make()
    compiled = torch.compile(prog["step"], backend=backend, **options)
    for i, args in enumerate(prog["args"]):
        if prog.get("before"):
            prog["before"](i)
        got = _snapshot(compiled(*args), prog["state"])
        e = eager[i]
        assert e[3] == got[3], f"step {i}: result structure differs"
        for part in range(3):
            for x, y in zip(e[part], got[part]):
                _same(x, y, exact)
    for ev in compiled.events:
        if "trace" in ev:
            check_graph(ev["trace"].graph)
    return compiled, eager_prog, prog


# -- the programs ---------------------------------------------------------------------------
def _with_grads(module):
    """Give every parameter a zero .grad before the first step, so the first call's trace has
    the guards of later calls (`opt.zero_grad()` reads .grad, which is None only before the
    first step): the trace counts below then count what each test is about."""
    for p in module.parameters():
        p.grad = torch.zeros_like(p)
    return module


def threshold_halving():
    torch.manual_seed(10)
    model = _with_grads(nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.02)
    g = np.random.default_rng(0)
    args = [(torch.randn(8, 4) * float(g.choice([0.3, 3.0])), torch.randn(8, 1))
            for _ in range(STEPS)]
    taken = []

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        if loss.item() > 2.0:
            loss = loss * 0.5
            taken.append(True)
        loss.backward()
        opt.step()
        return loss.item()
    return dict(step=step, args=args, state=list(model.parameters()), taken=taken)


def while_until_small():
    torch.manual_seed(11)
    model = _with_grads(nn.Linear(3, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    g = np.random.default_rng(1)
    args = [(torch.randn(6, 3) * float(g.choice([0.2, 3.0, 10.0, 50.0])), torch.randn(6, 2))
            for _ in range(STEPS)]
    iterations = []

    def step(x, y):
        opt.zero_grad()
        n = 0
        while x.abs().max() > 1.0:        # halve the batch until its entries are below 1
            x = x * 0.5
            n += 1
        iterations.append(n)
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return dict(step=step, args=args, state=list(model.parameters()), iterations=iterations)


RNN_LENGTHS = (3, 5, 4, 7)


def rnn_varying_length():
    torch.manual_seed(12)
    cell_x, cell_h, head = (_with_grads(nn.Linear(3, 8)), _with_grads(nn.Linear(8, 8, bias=False)),
                            _with_grads(nn.Linear(8, 1)))
    params = list(cell_x.parameters()) + list(cell_h.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05)
    g = np.random.default_rng(2)
    args = [(torch.randn(int(g.choice(RNN_LENGTHS)), 4, 3), torch.randn(4, 1)) for _ in range(STEPS)]

    def step(xs, y):
        opt.zero_grad()
        h = torch.zeros(4, 8)
        for t in range(xs.shape[0]):
            h = torch.tanh(cell_x(xs[t]) + cell_h(h))
        loss = ((head(h) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()
    return dict(step=step, args=args, state=params)


def adam_step_decay():
    torch.manual_seed(13)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    args = [(torch.randn(10, 5), torch.randn(10, 1)) for _ in range(STEPS)]

    def before(i):
        if i and i % 10 == 0:
            for group in opt.param_groups:
                group["lr"] *= 0.5

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return dict(step=step, args=args, state=list(model.parameters()), before=before, opt=opt)


def python_counter():
    torch.manual_seed(14)
    model = _with_grads(nn.Linear(3, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    args = [(torch.randn(6, 3), torch.randn(6, 1)) for _ in range(STEPS)]
    calls = {"n": 0}

    def step(x, y):
        calls["n"] += 1
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean() * (1.0 + 0.01 * calls["n"])  # COUNTER LINE
        loss.backward()
        opt.step()
        return loss
    return dict(step=step, args=args, state=list(model.parameters()), calls=calls)


SCALARS = [0.5 + 0.1 * k for k in range(20)]


def twenty_scalars():
    torch.manual_seed(15)
    model = _with_grads(nn.Linear(3, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(6, 3), torch.randn(6, 1)

    def step(x, y, scales):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean() * float(scales[0])
        loss.backward()
        opt.step()
        return loss
    # (a str is a constant of the argument structure: a float argument, top-level or inside a
    # tuple, would be read per call from its first change)
    return dict(step=step, args=[(x, y, (str(SCALARS[i % 20]),)) for i in range(STEPS)],
                state=list(model.parameters()))


# -- the tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_branch_on_loss_item(backend):
    c, eager, prog = run_both(threshold_halving, backend)
    assert 0 < len(eager["taken"]) < STEPS          # the branch is taken on some steps only
    st = c.stats()
    # One trace per outcome of `loss.item() > 2.0`, both under one root: the forward up to the
    # decision is one shared segment (1 program), each branch's remainder another (2 programs).
    assert st["traces"] == 2 and st["cached_traces"] == 2 and st["segments"] == 3, st
    assert st["programs_built"] == 3, st
    assert st["mode"] == "tree" and st["fallbacks"] == 0 and st["stale"] == 0
    # each leaf was re-verified on its first reuse, and again at its 8th
    assert st["verifications"] >= 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_loop_on_a_tensor_condition(backend):
    c, eager, prog = run_both(while_until_small, backend)
    counts = sorted(set(eager["iterations"]))
    assert len(counts) >= 3                          # a different number of iterations on calls
    st = c.stats()
    # One trace per distinct iteration count; they share the loop's prefix segments (each
    # `x.abs().max() > 1` is a decision), so each count adds one exit leaf and one program
    # for it, plus the loop segments not yet seen.
    assert st["traces"] == len(counts) and st["cached_traces"] == len(counts), st
    deepest = max(counts)
    assert st["segments"] == deepest + 1 + len(counts), st
    assert st["programs_built"] <= st["segments"], st
    assert st["fallbacks"] == 0 and st["stale"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_over_sequences_of_varying_length(backend):
    c, eager, prog = run_both(rnn_varying_length, backend)
    lengths = {a[0].shape[0] for a in prog["args"]}
    assert len(lengths) == len(RNN_LENGTHS)
    st = c.stats()
    # One trace per distinct length (the shape guard on xs fails for a new length). The
    # unrolled loop makes each length's graph structurally different, so one program each;
    # re-verifications and repeats of a length build nothing.
    assert st["traces"] == len(lengths) and st["cached_traces"] == len(lengths), st
    assert st["programs_built"] == len(lengths), st
    assert st["fallbacks"] == 0 and st["stale"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_with_step_decay_schedule_does_not_retrace(backend):
    c, eager, prog = run_both(adam_step_decay, backend)
    assert prog["opt"].param_groups[0]["lr"] == pytest.approx(0.05 / 16)
    st = c.stats()
    # Call 1 creates Adam's state (a one-shot trace); call 2 makes the trace every later call
    # uses. The lr, changed 4 times, is a per-call input of the graph: no retrace for it.
    assert st["traces"] == 2 and st["cached_traces"] == 1, st
    assert st["programs_built"] == 2, st
    assert not any("lr" in ev.get("reason", "") for ev in c.events if ev.get("outcome") != "verified")
    tr = c.traces[0]
    assert [p.label for p in tr.py_inputs] == ["adam.param_groups[0]['lr']"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_counter_is_detected(backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c, eager, prog = run_both(python_counter, backend)
    assert eager["calls"]["n"] == prog["calls"]["n"] == STEPS   # counted once per call
    assert not [w for w in caught if "stepjit" in str(w.message)], [str(w.message) for w in caught]
    st = c.stats()
    # The counter is written back (tracer/results.py) and read per call once it changed
    # (symbolic.py), and the loss is scaled by a float computed from it (`1.0 + 0.01 * n`),
    # which the graph computes on every call: one trace serves every later call, never stale,
    # never a fallback.
    assert st["stale"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 3 and st["fallbacks"] == 0, st


@pytest.mark.parametrize("backend", BACKENDS)
def test_recompile_limit(backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c, eager, prog = run_both(twenty_scalars, backend)
    limit = [w for w in caught if "recompile limit" in str(w.message)]
    assert len(limit) == 1
    msg = str(limit[0].message)
    assert "twenty_scalars.<locals>.step" in msg and "argument changed from '1.2" in msg, msg
    st = c.stats()
    # Scalars 0-7 are traced (8 compiles); 8-19 miss and run eagerly; on the second and third
    # rounds scalars 0-7 hit their cached traces and the rest run eagerly again.
    assert st["traces"] == 8 and st["compiles"] == 8, st
    assert st["fallbacks"] == 12 + 12 + 2, st


def test_recompile_limit_option_and_config():
    from stepjit._dynamo import config
    prog = twenty_scalars()
    c = torch.compile(prog["step"], backend="interpret", recompile_limit=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for args in prog["args"][:4]:
            c(*args)
    assert len(caught) == 1 and "recompile limit (2)" in str(caught[0].message)
    assert c.stats()["traces"] == 2 and c.stats()["fallbacks"] == 2
    old, config.recompile_limit = config.recompile_limit, 1
    try:
        c = torch.compile(twenty_scalars()["step"], backend="interpret")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for args in prog["args"][:3]:
                c(*args)
        assert len(caught) == 1
        assert c.stats()["traces"] == 1
    finally:
        config.recompile_limit = old


def test_returned_item_is_fresh_without_retracing():
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return {"loss": loss.item(), "norm": w.norm().item()}
    c = torch.compile(step, backend="interpret")
    outs = [c(torch.full((3,), float(k))) for k in range(6)]
    assert [o["loss"] for o in outs] != [outs[0]["loss"]] * 6
    assert all(isinstance(o["loss"], float) for o in outs)
    assert c.stats()["traces"] == 1


def test_item_used_as_a_number_is_exact():
    def step(x):
        s = x.sum().item()
        return x * 2 if s + 0 > 0 else x    # arithmetic: computed by the graph (results.py)
    c = torch.compile(step, backend="interpret")
    for v in (1.0, 1.0, 2.0, 2.0, -1.0):
        x = torch.full((2,), v)
        np.testing.assert_array_equal(c(x).numpy(), step(x).numpy())
    assert c.stats()["traces"] == 2   # one per outcome of the comparison

    def formatted(x):
        s = x.sum().item()
        return x * 2 if f"{s + 0:.1f}" > "1" else x    # formatted: the exact value is guarded
    c = torch.compile(formatted, backend="interpret")
    for v in (1.0, 1.0, 2.0, 2.0, -1.0):
        x = torch.full((2,), v)
        np.testing.assert_array_equal(c(x).numpy(), formatted(x).numpy())
    assert c.stats()["traces"] == 3   # one per distinct value


def test_explain_and_logs_report_the_failed_decision(tmp_path, capsys, monkeypatch):
    from stepjit.cli import main
    script = tmp_path / "branchy.py"
    script.write_text(
        "import stepjit as torch\n"
        "w = torch.ones(2, requires_grad=True)\n"
        "@torch.compile(backend='interpret')\n"
        "def step(x):\n"
        "    loss = (x * w).sum()\n"
        "    if loss.item() > 1.0:\n"
        "        loss = loss * 0.5\n"
        "    return loss.item()\n"
        "for v in (1.0, 1.0, 0.1, 0.1, 2.0):\n"
        "    step(torch.full((2,), v))\n")
    assert main(["explain", str(script)]) == 0
    out = capsys.readouterr().out
    assert "5 calls, 2 traces" in out
    assert "went another way" in out and "was True, now False" in out
    assert "branchy.py:6" in out
    assert "programs built" in out and "ms compiling" in out
    monkeypatch.setenv("STEPJIT_LOGS", "recompiles")
    import runpy
    runpy.run_path(str(script), run_name="__main__")
    err = capsys.readouterr().err
    assert "went another way" in err and "branchy.py:6" in err
