"""The corpus: each program in programs/ with how it is run and what it is expected to do today.

One Entry per program. `eager` / `compiled` are None when that mode must match PyTorch today,
or the reason it does not yet (a missing API or a known bug): the test is then a strict xfail,
so it fails loudly, asking for the reason to be removed, the day it passes. `traces` is how
many traces the compiled run makes in all (asserted), `fallbacks` how many steps it may run
eagerly (0 unless `fallback_why` says why the program truly cannot be compiled).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    source: str                  # where it comes from, for the README's table
    probe: str = "loss"          # the name bound to the step's loss (harness.py)
    lines: tuple = ()            # the training loops' lines, where none calls .backward()
    argv: tuple = ()             # command-line arguments (argparse programs)
    dtype: str = "float32"
    rtol: float = 1e-4           # at step k: rtol * sqrt(k + 1) (float32 drift grows)
    atol: float = 1e-6
    eager: str | None = None     # why the eager run does not match PyTorch yet
    compiled: object = None      # why the compiled run does not match yet: a str, or a dict
                                 # {backend: reason} where backends differ
    traces: int | None = None    # traces the compiled run makes (cpu and interpret alike)
    fallbacks: int = 0           # steps the compiled run may run eagerly ...
    fallback_why: str = ""       # ... and why

    def compiled_reason(self, backend):
        if isinstance(self.compiled, dict):
            return self.compiled.get(backend)
        return self.compiled

    def tolerance(self, k):
        if self.dtype == "float64":
            return self.rtol, self.atol
        return self.rtol * (k + 1) ** 0.5, self.atol


ZERO_DIM = ("0-dim parameters crash the native program at the 65th call "
            "(codegen/pointers.py reshaped(v, ()); issue 17)")
STALE_RANDOM = ("Python's random.randint in forward is replayed: stale trace, then recompile "
                "limit and eager fallback (issue 17)")
DEFAULT_DEVICE = "torch.set_default_device is missing"
TUTORIALS = "pytorch/tutorials"

CORPUS = [
    Entry("polynomial_tensor", TUTORIALS, lines=(43,), traces=1, compiled={"cpu": ZERO_DIM}),
    Entry("polynomial_autograd", TUTORIALS, eager=DEFAULT_DEVICE, compiled=DEFAULT_DEVICE),
    Entry("polynomial_custom_function", TUTORIALS, compiled={"cpu": ZERO_DIM}, traces=1),
    Entry("polynomial_nn", TUTORIALS, traces=2),
    Entry("polynomial_optim", TUTORIALS, traces=2),
    Entry("polynomial_module", TUTORIALS, traces=2, compiled={
        "cpu": ZERO_DIM,
        "interpret": "the replayed trace's loss differs from eager's in the last bits at steps "
                     "5-7 and 11 (130582.0390625 vs 130582.015625 at step 5): not bitwise"}),
    Entry("dynamic_net", TUTORIALS, compiled=STALE_RANDOM),
]

BY_NAME = {e.name: e for e in CORPUS}
