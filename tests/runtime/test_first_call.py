"""A new trace's first call is interpreted (STEPJIT_FIRST_CALL unset, the default): it compiles
no kernel, so a first call costs an eager step, and its values are eager's. Its programs are
built and compiled at its second call. Compared with eager runs; the suite elsewhere runs with
STEPJIT_FIRST_CALL=compile (tests/conftest.py)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import stepjit as torch
import stepjit.nn.functional as F
from stepjit.codegen import kernels

from .helpers import assert_same, snapshot


def mlp_state(batch=8):
    rng = np.random.default_rng(5)
    return {"x": torch.tensor(rng.standard_normal((batch, 6)).astype(np.float32)),
            "y": torch.tensor(rng.integers(0, 3, batch)),
            "w1": torch.tensor(rng.standard_normal((6, 5)).astype(np.float32) / 3,
                               requires_grad=True),
            "w2": torch.tensor(rng.standard_normal((5, 3)).astype(np.float32) / 3,
                               requires_grad=True)}


def mlp_step(x, y, w1, w2):
    loss = F.cross_entropy(torch.tanh(x @ w1) @ w2, y)
    loss.backward()
    with torch.no_grad():
        for w in (w1, w2):
            w -= 0.5 * w.grad
            w.grad = None
    return loss


def _call(fn, s):
    return snapshot(fn(s["x"], s["y"], s["w1"], s["w2"]), [s["w1"], s["w2"]])


def _kernels_run():
    return kernels.STATS["compiled"] + kernels.STATS["loaded"]


def test_first_call_is_interpreted_and_the_second_compiles(monkeypatch):
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)
    s = mlp_state()
    eager = [_call(mlp_step, s) for _ in range(6)]
    s = mlp_state()
    fn = torch.compile(mlp_step, backend="cpu")
    before = _kernels_run()
    got = [_call(fn, s)]
    assert _kernels_run() == before, "the first call compiled or loaded a kernel"
    assert all(seg.program is None for seg in fn.roots), "the first call kept a program"
    for x, y in zip(eager[0][0] + eager[0][1], got[0][0] + got[0][1]):
        assert_same(x, y, exact=True)          # the interpreter's values are eager's
    got.append(_call(fn, s))
    assert all(seg.program is not None for seg in fn.roots), "the second call built nothing"
    assert type(fn.roots[0].program.unwrapped()).__name__ == "CpuProgram"
    got += [_call(fn, s) for _ in range(4)]
    for e, c in zip(eager, got):
        for part in range(2):
            for x, y in zip(e[part], c[part]):
                assert_same(x, y, exact=False)


def test_a_new_shape_is_interpreted_first_too(monkeypatch):
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)
    fn = torch.compile(mlp_step, backend="cpu")
    s = mlp_state(8)
    for _ in range(3):
        _call(fn, s)
    small, want = mlp_state(4), mlp_state(4)
    got = _call(fn, small)
    assert fn.roots[-1].program is None
    for x, y in zip(_call(mlp_step, want)[0], got[0]):
        assert_same(x, y, exact=True)
    _call(fn, small)
    assert fn.roots[-1].program is not None


def test_compile_mode_compiles_at_the_first_call(monkeypatch):
    monkeypatch.setenv("STEPJIT_FIRST_CALL", "compile")
    fn = torch.compile(mlp_step, backend="cpu")
    _call(fn, mlp_state())
    assert all(seg.program is not None
               and type(seg.program.unwrapped()).__name__ == "CpuProgram" for seg in fn.roots)


FIRST = textwrap.dedent("""
    import json, sys
    from tests.runtime.test_first_call import mlp_state, mlp_step
    from stepjit.codegen import kernels
    import stepjit as torch
    s = mlp_state()
    fn = torch.compile(mlp_step, backend="cpu")
    loss = fn(s["x"], s["y"], s["w1"], s["w2"]).item()
    print(json.dumps({"loss": loss, "numba": "numba" in sys.modules, **kernels.STATS}))
""")


def test_a_cold_first_call_imports_no_numba(tmp_path):
    """In a fresh process with an empty cache, the first call neither compiles nor imports
    Numba (~0.3-0.5 s alone)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(tmp_path), PYTHONPATH=root)
    env.pop("STEPJIT_FIRST_CALL", None)
    out = subprocess.run([sys.executable, "-c", FIRST], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert not got["numba"] and got["compiled"] == 0 and got["loaded"] == 0
    s = mlp_state()
    assert got["loss"] == mlp_step(s["x"], s["y"], s["w1"], s["w2"]).item()


def _logistic_run(calls, check=None):
    """Eager and compiled snapshots of B2's step (test_fastcall.logistic_step)."""
    from .test_fastcall import logistic_state, logistic_step, positional
    s = logistic_state()
    eager = [snapshot(positional(logistic_step, s), [s["w"], s["b"]]) for _ in range(calls)]
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    got = []
    for k in range(calls):
        got.append(snapshot(positional(fn, s), [s["w"], s["b"]]))
        if check is not None:
            check(k, fn)
    for e, c in zip(eager, got):
        for part in range(3):
            for x, y in zip(e[part], c[part]):
                assert_same(x, y, exact=False)
    return fn


def test_a_program_bound_for_native_is_interpreted_until_hot(monkeypatch):
    """Its loop kernels would be thrown away at promotion (the native program compiles its
    loops in its own module): none is compiled or loaded before it goes native."""
    from stepjit.runtime.compiled import HOT_REUSE
    from stepjit.runtime.tree import clear_programs
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)
    monkeypatch.delenv("STEPJIT_NATIVE", raising=False)
    clear_programs()
    before = _kernels_run()

    def check(k, fn):
        if k == HOT_REUSE - 5:
            program = fn.roots[-1].program.unwrapped()
            assert program.native is None and program.interpreted_runs > 0
            assert program.straight is None, "its loop kernels ran"
            assert _kernels_run() == before

    fn = _logistic_run(HOT_REUSE + 10, check)
    assert fn.roots[-1].program.unwrapped().native is not None


def test_a_program_never_promoted_compiles_its_loops_after_its_interpreted_runs(monkeypatch):
    from stepjit.programs import cpu
    from stepjit.runtime.tree import clear_programs
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)
    monkeypatch.delenv("STEPJIT_NATIVE", raising=False)
    monkeypatch.setattr(cpu, "INTERPRETED_RUNS", 3)
    clear_programs()
    fn = _logistic_run(10)
    program = fn.roots[-1].program.unwrapped()
    assert program.native is None and program.interpreted_runs == 0
    assert program.straight is not None       # its loop kernels' straight-line function ran
