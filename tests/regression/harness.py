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
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import stepjit as torch
from stepjit.ir.printer import print_graph
from stepjit.tracer.pytree import flatten

from tests.runtime.helpers import check_graph

BACKENDS = ("interpret", "cpu")
RTOL = {"interpret": 0.0, "cpu": 1e-4}


@dataclass
class Program:
    step: object                  # the training step (or a list of steps called in turn)
    args: object                  # tuple of call arguments, or fn(k) -> tuple for step k
    state: list                   # tensors whose values and .grad must match
    steps: int = 6
    max_traces: int = 2           # first call, plus one for state the first call created
    extra: dict = field(default_factory=dict)

    def args_for(self, k):
        return self.args(k) if callable(self.args) else self.args


def _leaves(result):
    leaves, tree = flatten(result, lambda x: isinstance(x, torch.Tensor))
    return [np.array(t.detach().numpy()) for t in leaves], tree


def snapshot(result, state):
    out, tree = _leaves(result)
    weights = [np.array(p.detach().numpy()) for p in state]
    grads = [None if p.grad is None else np.array(p.grad.numpy()) for p in state]
    rng = torch.random.get_rng_state().tolist()
    return {"result": out, "tree": tree, "weights": weights, "grads": grads, "rng": rng}


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


def compare(eager, compiled, rtol, context=""):
    for k, (e, c) in enumerate(zip(eager, compiled)):
        at = f"{context}step {k}"
        assert e["tree"] == c["tree"], f"{at}: result structure differs"
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


def run_eager_and_compiled(make, backend="interpret"):
    """Run make() eagerly and compiled on `backend`; compare every step. Returns the compiled
    step functions (for the callers' own checks)."""
    prog = make()
    eager = run(prog)
    prog = make()
    compiled = [torch.compile(f, backend=backend) for f in _steps(prog)]
    got = run(prog, compiled)
    try:
        compare(eager, got, RTOL[backend])
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- traced IR ---\n{graphs_text(compiled)}") from None
    for fn in compiled:
        for event in fn.events:
            check_graph(event["trace"].graph)
        assert fn.stats()["traces"] <= prog.max_traces, [ev.get("reason") for ev in fn.events]
    return compiled, prog
