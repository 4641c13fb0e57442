"""Run a whole training program eagerly and compiled, and compare everything a user could see.

A program is `make() -> Program`: it seeds the global generator, builds its model and data,
and returns the step function, the per-call arguments and the state to compare. `make` is
called once per run, so each run starts from identical, independent copies (and from the
same generator state, so random numbers drawn inside the step line up too).

What is compared after every step: the step's results (losses, metrics, any tensors it
returns), every state tensor's values and `.grad` (None or not, then values), and the global
generator's (seed, offset). On the interpret backend the comparison is bitwise; on a
generated-code backend it is to a tolerance (fused kernels may round differently), but bool
and integer results (masks, argmax, indices) must still match exactly.

Backend "cuda" runs `make("cuda")`: the program's tensors on the device, run eagerly (CUDA
eager ops) and compiled, each compared with the eager run on the CPU, to the cpu backend's
tolerance (all three runs at the program's small sizes); parameters, their `.grad` and the
step's results must stay on the device. It runs
only in the child process of tests/cuda/test_cuda.py (STEPJIT_CUDA_CHILD=1), where Numba's
CUDA simulator stands in for a GPU: the simulator is chosen when numba.cuda is first imported
and must not leak into the rest of the suite. There every thread is a Python thread, so
programs run at most `cuda_steps` steps.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np

import stepjit as torch
from stepjit.ir.printer import print_graph
from stepjit.tracer.pytree import flatten

from tests.runtime.helpers import check_graph

CUDA_CHILD = os.environ.get("STEPJIT_CUDA_CHILD") == "1"
BACKENDS = ("cuda",) if CUDA_CHILD else ("interpret", "cpu")
RTOL = {"interpret": 0.0, "cpu": 1e-4, "cuda": 1e-4}


@dataclass
class Program:
    step: object                  # the training step (or a list of steps called in turn)
    args: object                  # tuple of call arguments, or fn(k) -> tuple for step k
    state: list                   # tensors whose values and .grad must match
    steps: int = 6
    max_traces: int = 2           # first call, plus one for state the first call created
    extra: dict = field(default_factory=dict)
    cuda_steps: int = 3           # steps on backend "cuda" (the simulator is slow)

    def args_for(self, k):
        return self.args(k) if callable(self.args) else self.args


def _host(t):
    return np.array(t.detach().cpu().numpy())


def snapshot(result, state):
    leaves, tree = flatten(result, lambda x: isinstance(x, torch.Tensor))
    weights = [_host(p) for p in state]
    grads = [None if p.grad is None else _host(p.grad) for p in state]
    rng = torch.random.get_rng_state().tolist()
    devices = [t.device.type for t in leaves] + [t.device.type for t in state] + \
        [p.grad.device.type for p in state if p.grad is not None]
    return {"result": [_host(t) for t in leaves], "tree": tree, "weights": weights,
            "grads": grads, "rng": rng, "devices": devices}


def assert_close(a, b, rtol, what):
    assert (a is None) == (b is None), f"{what}: one run has None ({a is None} vs {b is None})"
    if a is None:
        return
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs {b.dtype}"
    if rtol == 0.0 or a.dtype.kind not in "fc":
        assert np.array_equal(a, b, equal_nan=True), (
            f"{what}: not bitwise equal; max |diff| {np.max(np.abs(a.astype(float) - b)) if a.size else 0}")
    else:
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, err_msg=what)


def compare(eager, compiled, rtol, context="", devices=True):
    """Every step's snapshots; `devices=False` when the runs were on different devices."""
    assert len(eager) == len(compiled)
    for k, (e, c) in enumerate(zip(eager, compiled)):
        at = f"{context}step {k}"
        assert e["tree"] == c["tree"], f"{at}: result structure differs"
        assert not devices or e["devices"] == c["devices"], \
            f"{at}: tensors on devices {c['devices']}, eagerly {e['devices']}"
        assert e["rng"] == c["rng"], f"{at}: generator state {e['rng']} vs {c['rng']}"
        for part in ("result", "weights", "grads"):
            assert len(e[part]) == len(c[part])
            for i, (x, y) in enumerate(zip(e[part], c[part])):
                assert_close(x, y, rtol, f"{at}: {part}[{i}]")


def _steps(prog):
    return prog.step if isinstance(prog.step, (list, tuple)) else [prog.step]


def run(prog, compiled_fns=None):
    """Call the program's step(s) `prog.steps` times; a snapshot after each call."""
    fns = compiled_fns or _steps(prog)
    snaps = []
    for k in range(prog.steps):
        fn = fns[k % len(fns)]
        snaps.append(snapshot(fn(*prog.args_for(k)), prog.state))
    return snaps


def graphs_text(compiled_fns):
    parts = []
    for fn in compiled_fns:
        for tr in fn.traces:
            parts.append(print_graph(tr.graph))
    return "\n\n".join(parts)


def make_for(make, backend, device="cuda"):
    """make()'s program for `backend`; for "cuda": small, at most `cuda_steps` steps, on
    `device` (the eager reference is the same program on the CPU)."""
    if backend != "cuda":
        return make()
    prog = make(device, small=True)
    return replace(prog, steps=min(prog.steps, prog.cuda_steps))


def run_eager_and_compiled(make, backend="interpret"):
    """Run make() eagerly and compiled on `backend`; compare every step. On "cuda" the program
    also runs eagerly on the device, and both device runs are compared with the eager run on
    the CPU. Returns the compiled step functions (for the callers' own checks)."""
    eager = run(make_for(make, backend, "cpu"))
    prog = make_for(make, backend)
    on_device = None
    if backend == "cuda":
        on_device = run(prog)
        compare(eager, on_device, RTOL[backend], "eager on cuda vs cpu: ", devices=False)
        assert all(d == "cuda" for s in on_device for d in s["devices"][len(s["result"]):]), \
            "a parameter or its .grad left the device"
        prog = make_for(make, backend)
    compiled = [torch.compile(f, backend=backend) for f in _steps(prog)]
    got = run(prog, compiled)
    try:
        compare(eager, got, RTOL[backend], devices=on_device is None)
        if on_device is not None:
            compare(on_device, got, RTOL[backend], "compiled vs eager on cuda: ")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- traced IR ---\n{graphs_text(compiled)}") from None
    for fn in compiled:
        for event in fn.events:
            check_graph(event["trace"].graph)
        assert fn.stats()["traces"] <= prog.max_traces, [ev.get("reason") for ev in fn.events]
    return compiled, prog
