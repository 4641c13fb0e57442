"""The helper process that compiles a program's loop kernels on a second core
(codegen/compile_helper.py): the signatures the program predicts are the ones its first run
passes, so every kernel the helper built is loaded, not compiled, and the results match
eager; claims keep two processes from building one kernel."""
import json
import os
import subprocess

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import compile_helper, kernels, machine_cache
from stepjit.programs.cpu import CpuProgram, predicted_calls

pytestmark = pytest.mark.skipif(not machine_cache.available(),
                                reason="machine-code entries are not built here")


def _step_and_weights():
    r = np.random.default_rng(5)
    ws = [torch.tensor(r.standard_normal(s).astype(np.float32) * 0.5, requires_grad=True)
          for s in ((4, 6), (6, 5), (5, 3))]

    def step(x):
        h = (x @ ws[0]).tanh()
        h = (h @ ws[1]).sigmoid() * 2.0
        h = (h @ ws[2]).exp()
        loss = (h * h).mean() + h.max()
        loss.backward()
        with torch.no_grad():
            for w in ws:
                w -= 0.1 * w.grad
                w.grad = None
        return loss
    return step, ws


def test_helper_builds_the_entries_the_first_run_loads(fresh_kernels, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    monkeypatch.setenv("STEPJIT_COMPILE_HELPER", "0")      # the test runs the helper itself
    x = torch.tensor(np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32))
    step, ws = _step_and_weights()
    graph = torch.make_ir(step)(x)
    program = CpuProgram(graph, keep=())
    inputs = {graph.inputs[0]: x.numpy()}
    weights = {f"@ws{k}": w.detach().numpy().copy() for k, w in enumerate(ws)}
    inputs.update((v, weights[label]) for v, label in graph.lifted)
    monkeypatch.setattr(compile_helper, "enabled", lambda: True)
    calls = predicted_calls(program, dict(inputs))
    todo = compile_helper.pending(calls)
    assert len(todo) >= 4 and len({j["entry"] for j in todo}) == len(todo)
    done = subprocess.run(compile_helper.command(), input=json.dumps(todo).encode(),
                          env=compile_helper.environment(), timeout=600)
    assert done.returncode == 0
    assert all(os.path.exists(j["entry"]) for j in todo)
    before = dict(kernels.STATS)
    out = program.run(dict(inputs))
    assert kernels.STATS["compiled"] == before["compiled"], "a predicted signature was wrong"
    assert kernels.STATS["entries_loaded"] - before["entries_loaded"] == len(todo)
    want = step(x).item()          # eager, from the same weights (the program wrote copies)
    assert out[graph.outputs[0]].item() == pytest.approx(want, rel=1e-5)


def test_claims_exclude_a_live_process_only(tmp_path):
    entry = str(tmp_path / "k.entry")
    assert compile_helper.claim(entry)
    assert not compile_helper.claim(entry) or compile_helper._claimant(entry) == os.getpid()
    compile_helper.unclaim(entry)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(entry + ".claim", "w") as f:            # left by a process that ended
        f.write(str(dead.pid))
    assert compile_helper.claim(entry) and compile_helper._claimant(entry) == os.getpid()
    compile_helper.unclaim(entry)
    assert compile_helper._claimant(entry) is None


def test_stand_ins_have_the_signature_they_stand_for():
    specs = [("float32", 2, "C", True), ("float64", 2, "F", True), ("int64", 1, "A", False),
             ("bool", 3, "A", True), ("float32", 0, "C", False), "i"]
    for spec in specs:
        assert machine_cache.signature([compile_helper.stand_in(spec)]) == (spec,)


def test_helper_starts_only_where_a_core_looks_idle(monkeypatch):
    monkeypatch.setattr(compile_helper.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(compile_helper, "_load", lambda: 1.0)
    monkeypatch.delenv("STEPJIT_COMPILE_HELPER", raising=False)
    assert compile_helper.enabled()
    monkeypatch.setattr(compile_helper, "_load", lambda: 3.0)      # both cores busy
    assert not compile_helper.enabled()
    monkeypatch.setenv("STEPJIT_COMPILE_HELPER", "always")
    assert compile_helper.enabled()
    monkeypatch.setenv("STEPJIT_COMPILE_HELPER", "0")
    monkeypatch.setattr(compile_helper, "_load", lambda: 0.0)
    assert not compile_helper.enabled()
    monkeypatch.delenv("STEPJIT_COMPILE_HELPER")
    monkeypatch.setattr(compile_helper.os, "cpu_count", lambda: 1)
    assert not compile_helper.enabled()
