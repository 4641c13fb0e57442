"""A CPU program whose loop kernels are not loaded runs their groups interpreted and compiles
them over its first calls (stepjit/programs/warmup.py), instead of compiling every kernel
before its first run. Each call's values are compared with eager's in float64, while groups
switch from interpreted to kernel and after; the kernel counts say how far the switch got."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
from stepjit.codegen import kernels
from stepjit.programs import warmup
from stepjit.programs.cpu import CpuProgram, LoopStep
from stepjit.runtime import tree

from ..runtime.helpers import snapshot

STEPS = 9


def _model():
    """A small step, float64: tanh, dropout (random numbers in a loop group), a sum of
    squares, and an SGD update computed into the parameters' buffers."""
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.standard_normal((5, 4)))
    w = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = torch.tensor(rng.standard_normal(3), requires_grad=True)

    def step(x):
        h = nn.functional.dropout(torch.tanh(x @ w + b), 0.25)
        loss = (h * h).sum()
        loss.backward()
        with torch.no_grad():
            for p in (w, b):
                p.sub_(0.1 * p.grad)
                p.grad.zero_()
        return loss

    return step, x, [w, b]


def _run(step, x, params, calls, compiled=None):
    torch.manual_seed(9)
    fn = step if compiled is None else compiled(step)
    got = []
    for _ in range(calls):
        got.append(snapshot(fn(x), params))
        if compiled is not None:
            got[-1] = got[-1] + (_progress(fn), tree.settling())
    return got


def _progress(fn):
    """(loop kernels, how many have not run) of the steady trace's program, None before it
    (steps that share a kernel count once)."""
    prog = fn.roots[-1].program if fn.roots and fn.roots[-1].program is not None else None
    if prog is None:
        return None
    prog = prog.unwrapped()
    assert isinstance(prog, CpuProgram)
    loops = {id(st.kernel): st.kernel for st in prog.steps if isinstance(st, LoopStep)}
    return len(loops), sum(k.fastest() is k for k in loops.values())


def _assert_close(eager, got):
    for k, (e, g) in enumerate(zip(eager, got)):
        for part in range(3):
            for x, y in zip(e[part], g[part]):
                assert (x is None) == (y is None), f"call {k + 1}"
                if x is not None:
                    np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-13,
                                               err_msg=f"call {k + 1}")


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """The step's calls on an empty kernel cache, compiled and eager, with the default first
    call (interpreted) and a budget that lets each call compile one kernel: the switch takes
    as many calls as the program has kernels. The module's tests run in this setting."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEPJIT_CACHE_DIR", str(tmp_path_factory.mktemp("kernels")))
        mp.delenv("STEPJIT_FIRST_CALL", raising=False)
        mp.setenv("STEPJIT_COMPILE_HELPER", "0")
        mp.setenv("STEPJIT_NATIVE", "0")
        mp.setattr(warmup, "CALL_BUDGET", 0.0)
        mp.setattr(warmup, "BUDGET_RATIO", 0.0)
        saved = dict(kernels._KERNELS)
        kernels._KERNELS.clear()
        tree.clear_programs()
        step, x, params = _model()
        eager = _run(step, x, params, STEPS)
        step, x, params = _model()
        fn = torch.compile(step)
        compiled = _run(step, x, params, STEPS, compiled=lambda f: fn)
        yield {"eager": eager, "compiled": compiled, "fn": fn}
        kernels._KERNELS.clear()
        kernels._KERNELS.update(saved)
        tree.clear_programs()


def test_kernels_arrive_one_a_call_and_every_call_matches_eager(cold):
    _assert_close(cold["eager"], cold["compiled"])
    progress = [g[4] for g in cold["compiled"]]
    # call 1 is interpreted; the program is built at the trace's first reuse, whose run
    # compiles the first kernel it meets and interprets the other groups (timing each), and
    # each call after compiles one kernel
    built = [p for p in progress if p is not None]
    loops = built[0][0]
    assert loops >= 3, progress
    pending = [p[1] for p in built]
    assert pending[0] == loops - 1, f"the first run compiled {loops - pending[0]} kernels"
    assert all(a - b == 1 for a, b in zip(pending[:loops - 1], pending[1:loops])), progress
    assert pending[loops - 1:] == [0] * (len(pending) - loops + 1), progress


def test_the_program_settles_when_its_last_kernel_arrives(cold):
    """runtime.tree.settling(), which benchmarks/workloads.py's time to steady state waits
    for, holds exactly while some loop kernel has not run yet."""
    for k, call in enumerate(cold["compiled"]):
        progress, settling = call[4], call[5]
        assert settling == (progress is not None and progress[1] > 0), (k, progress, settling)
    assert any(call[5] for call in cold["compiled"])


def test_after_the_switch_the_program_runs_its_kernels_alone(cold):
    prog = cold["fn"].roots[-1].program.unwrapped()
    assert prog.warming is None
    assert all(st.pending is None for st in prog.steps if isinstance(st, LoopStep))
    assert "PendingKernel" not in prog.straight_text and "pending" not in prog.straight_text


def _new_process(monkeypatch):
    """No kernel or program in memory (the machine-code entries stay on disk), and a count of
    the stand-ins made."""
    kernels._KERNELS.clear()
    tree.clear_programs()
    made = []
    monkeypatch.setattr(warmup, "PendingKernel",
                        lambda *a: made.append(a) or _PENDING(*a))
    return made


_PENDING = warmup.PendingKernel


def test_a_warm_cache_loads_every_kernel_at_the_first_run(cold, monkeypatch):
    made = _new_process(monkeypatch)
    compiled_before = kernels.STATS["compiled"]
    step, x, params = _model()
    got = _run(step, x, params, 4, compiled=torch.compile)
    _assert_close(cold["eager"], got)
    built = [g[4] for g in got if g[4] is not None]
    assert made and built and all(p[1] == 0 for p in built), built
    assert kernels.STATS["compiled"] == compiled_before


def test_first_call_compile_compiles_every_kernel_at_once(cold, monkeypatch):
    made = _new_process(monkeypatch)
    monkeypatch.setenv("STEPJIT_FIRST_CALL", "compile")
    step, x, params = _model()
    got = _run(step, x, params, 2, compiled=torch.compile)
    _assert_close(cold["eager"], got)
    assert all(p[4][1] == 0 for p in got), [p[4] for p in got]
    assert not made, "a program waited for kernels with STEPJIT_FIRST_CALL=compile"


def test_a_check_in_an_interpreted_group_raises_eagers_error(fresh_kernels, monkeypatch):
    """binary_cross_entropy's range check inside a group still interpreted (no kernel compiles
    here): eager's error, naming the user's line, and the step's tensors left as they were."""
    from .test_checks import X, Y, _logistic
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    monkeypatch.setattr(warmup.Warmup, "may_compile", lambda self: False)
    w, b, _, step = _logistic("cpu")
    _, _, _, eager = _logistic(None)
    x, y = torch.tensor(X), torch.tensor(Y)
    one, bad = torch.tensor(1.0), torch.tensor(3.0)
    for _ in range(4):
        np.testing.assert_allclose(step(x, y, one).item(), eager(x, y, one).item(), rtol=1e-6)
    prog = step.roots[-1].program.unwrapped()
    assert prog.warming is not None and prog.warming.pending, "no group ran interpreted"
    before = [t.detach().numpy().copy() for t in (w, b, w.grad, b.grad)]
    with pytest.raises(RuntimeError) as got:
        step(x, y, bad)
    with pytest.raises(RuntimeError) as want:
        eager(x, y, bad)
    assert str(got.value).split(" (at ")[0] == str(want.value).split(" (at ")[0]
    assert "test_checks.py:23" in str(got.value), str(got.value)
    for old, t in zip(before, (w, b, w.grad, b.grad)):
        np.testing.assert_array_equal(t.detach().numpy(), old)
    np.testing.assert_allclose(step(x, y, one).item(), eager(x, y, one).item(), rtol=1e-6)
    assert prog.warming is not None, "a kernel compiled: the check ran in it, not interpreted"
