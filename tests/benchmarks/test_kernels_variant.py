"""The workloads' `stepjit kernels` variant runs the compiled step as kernels from generated
Python, on programs of its own: never the native program the `stepjit compile` variant runs
(programs are shared by structural hash, and built at a trace's second call), and with the
values eager computes."""
import os

import numpy as np

import stepjit
from benchmarks.cases.workloads import _kernels_only
from stepjit.runtime import tree


def step(x, w):
    loss = (x @ w).tanh().pow(2).mean()
    loss.backward()
    with stepjit.no_grad():
        w -= 0.1 * w.grad
        w.grad = None
    return loss


def state():
    rng = np.random.default_rng(2)
    x = stepjit.from_numpy(rng.standard_normal((8, 6)).astype(np.float32))
    w = stepjit.from_numpy(rng.standard_normal((6, 4)).astype(np.float32)).requires_grad_()
    return x, w


def programs(fn):
    return [p for _, p in fn.programs.values()]


def test_kernels_variant_gets_no_native_program_and_matches_eager(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")     # the compiled variant: native once built
    tree.clear_programs()
    try:
        compiled = stepjit.compile(step)
        x, w = state()
        for _ in range(3):
            compiled(x, w)
        assert programs(compiled) and all(p.native is not None for p in programs(compiled))
        kernels = stepjit.compile(step)
        call = _kernels_only(kernels, list(state()))
        got = [call().item() for _ in range(4)]
        mine = programs(kernels)
        assert mine and all(p.native is None for p in mine)
        assert not {id(p) for p in mine} & {id(p) for p in programs(compiled)}
        assert os.environ["STEPJIT_NATIVE"] == "1"     # the variant put the setting back
        x, w = state()
        want = [step(x, w).item() for _ in range(4)]
        np.testing.assert_allclose(got, want, rtol=1e-5)
    finally:
        tree.clear_programs()
