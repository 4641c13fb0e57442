"""What a process with a warm kernel cache still does: it compiles no kernel, and it does not
try again to build a machine-code entry that an earlier process found impossible (a native
program that returns a view of an array it computes allocates that array through Numba's
runtime, so it keeps Numba's dispatcher;
trying costs a parse, link and optimization of the whole compiled module each time). Each run
is a fresh process; results are compared with eager runs."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
         and os.uname().machine in ("x86_64", "aarch64")),
    reason="machine-code entries are built on CPython, x86-64 or AArch64 Linux only")

RUN = textwrap.dedent("""
    import json, sys
    import llvmlite.binding as ll
    emitted = []
    _emit = ll.TargetMachine.emit_object
    def emit_object(self, module):
        emitted.append(1)
        return _emit(self, module)
    ll.TargetMachine.emit_object = emit_object
    from stepjit.codegen import kernels
    from tests.codegen.test_warm_process import concat_state, concat_step
    import stepjit as torch
    s = concat_state()
    fn = torch.compile(concat_step, backend="cpu")
    losses = [fn(s["x"], s["w1"], s["w2"])[0].item() for _ in range(int(sys.argv[1]))]
    print(json.dumps({"losses": losses, "w1": s["w1"].detach().numpy().tolist(),
                      "native": fn.roots[-1].program.native is not None,
                      "emitted": len(emitted), **kernels.STATS}))
""")


def concat_state():
    import stepjit as torch
    rng = np.random.default_rng(3)
    return {"x": torch.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
            "w1": torch.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True),
            "w2": torch.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)}


def concat_step(x, w1, w2):
    """A tiny step whose native program concatenates and returns a view of an array (which it
    allocates: an array the caller could give it would be returned itself, docs/cache.md)."""
    import stepjit as torch
    h = torch.cat([x @ w1, x @ w2], dim=1).tanh()
    loss = (h * h).mean()
    loss.backward()
    with torch.no_grad():
        for w in (w1, w2):
            w -= 0.1 * w.grad
            w.grad = None
    return loss, h.detach().t()


def _run(cache, calls):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), STEPJIT_MACHINE_CACHE="1",
               STEPJIT_NATIVE="1", PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", RUN, str(calls)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_warm_process_compiles_nothing_and_retries_no_refused_entry(tmp_path):
    calls = 5
    s = concat_state()
    want = [concat_step(s["x"], s["w1"], s["w2"])[0].item() for _ in range(calls)]
    cold = _run(tmp_path, calls)
    assert cold["native"] and cold["compiled"] > 0
    # The program's entry is refused before any machine code is emitted for it: every
    # emission made an entry.
    assert cold["entries_refused"] >= 1 and cold["emitted"] == cold["entries_built"]
    notes = [n for n in os.listdir(tmp_path / "kernels") if n.endswith(".none")]
    assert notes and all(".program" in n for n in notes), notes
    warm = _run(tmp_path, calls)
    assert warm["native"]
    assert warm["compiled"] == 0, "a warm process compiled a kernel"
    assert warm["entries_built"] == 0 and warm["entries_refused"] == 0 and warm["emitted"] == 0
    for r in (cold, warm):
        np.testing.assert_allclose(r["losses"], want, rtol=1e-5)
        np.testing.assert_allclose(r["w1"], s["w1"].detach().numpy(), rtol=1e-5, atol=1e-7)
    assert warm["losses"] == cold["losses"] and warm["w1"] == cold["w1"]


ONCE = textwrap.dedent("""
    import json, sys
    from stepjit.runtime import compiled
    compiled.ONCE_MIN_ELEMENTS = 1      # this small step counts as one too large to interpret
    from stepjit.codegen import kernels
    from tests.codegen.test_warm_process import adam_run
    print(json.dumps(adam_run(compiled=True)))
""")


def adam_run(compiled, calls=4):
    """Adam's first step creates its state, so the first call's trace describes that call only
    (runtime/compiled.py: one-shot); losses and w after `calls` steps, and after the first
    call: the kernel counters and whether Numba was imported."""
    import stepjit as torch
    from stepjit.codegen import kernels
    rng = np.random.default_rng(5)
    w = torch.tensor(rng.standard_normal(256).astype(np.float32), requires_grad=True)
    g = torch.tensor(rng.standard_normal(256).astype(np.float32))
    opt = torch.optim.Adam([w], lr=1e-2)

    def step(w, g):
        loss = (w * g * w).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    fn = torch.compile(step, backend="cpu") if compiled else step
    losses = [fn(w, g).item()]
    first = {"numba": "numba" in sys.modules, **kernels.STATS}
    losses += [fn(w, g).item() for _ in range(calls - 1)]
    return {"losses": losses, "w": w.detach().numpy().tolist(), "first": first}


def _run_once(cache):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), STEPJIT_MACHINE_CACHE="1",
               PYTHONPATH=root)
    env.pop("STEPJIT_FIRST_CALL", None)      # the defaults: a new trace's first call is
    env.pop("STEPJIT_NATIVE", None)          # interpreted, unless it is large
    out = subprocess.run([sys.executable, "-c", ONCE], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_large_first_call_is_compiled_and_a_warm_process_loads_it_at_call_one(tmp_path):
    """A one-shot trace too large to interpret cheaply (programs/cpu.py: build_once) runs as
    serial kernels at its first call, so a warm process runs that first call from the disk
    cache (machine-code entries, no Numba, nothing compiled) instead of interpreting it."""
    want = adam_run(compiled=False)
    cold = _run_once(tmp_path)
    assert cold["first"]["compiled"] > 0, "the first call was interpreted, not compiled"
    warm = _run_once(tmp_path)
    first = warm["first"]
    assert first["compiled"] == 0 and first["entries_loaded"] > 0, first
    assert not first["numba"], "the warm first call imported Numba"
    for r in (cold, warm):
        np.testing.assert_allclose(r["losses"], want["losses"], rtol=1e-5)
        np.testing.assert_allclose(r["w"], want["w"], rtol=1e-5, atol=1e-7)
    assert warm["losses"] == cold["losses"] and warm["w"] == cold["w"]
