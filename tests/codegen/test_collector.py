"""Python's garbage collector is paused while Numba compiles (codegen/collector.py): off inside
the block, back on after it where it was on, nested blocks leaving it to the outermost; a loop
kernel compiled for its entry and a native program compiled into its entry run with it off."""
import gc

import numpy as np

import stepjit as torch
from stepjit.codegen import collector, entry_compile, program_entry


def test_paused_turns_the_collector_off_and_back_on():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()        # (the outer block still holds it)
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()        # off before: left off
    finally:
        gc.enable()


def test_kernels_and_programs_compile_with_the_collector_paused(fresh_kernels, monkeypatch):
    seen = {}

    def watch(module, name):
        real = getattr(module, name)

        def watched(*args, **kwargs):
            seen.setdefault(name, []).append(gc.isenabled())
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, watched)
    watch(entry_compile, "compile_result")
    watch(program_entry, "compile_entry")
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(0)
    x = torch.tensor(r.standard_normal((40, 40)).astype(np.float32))
    w = torch.tensor(r.standard_normal((40, 40)).astype(np.float32), requires_grad=True)

    def step(x):
        loss = torch.tanh(x @ w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    fn = torch.compile(step)
    losses = [fn(x).item() for _ in range(3)]
    assert seen.get("compile_entry") and not any(seen["compile_entry"])
    assert not any(seen.get("compile_result", []))
    assert gc.isenabled() and all(np.isfinite(losses))
