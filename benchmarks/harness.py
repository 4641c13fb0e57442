"""A small benchmark harness: cases with named variants, timed interleaved.

A Case is one workload (say, a two-layer training step) with several Variants,
each a different way to run it (stepjit eager, hand-written NumPy, PyTorch,
later stepjit.compile, torch.compile, jax.jit). `setup()` builds a variant's
state and returns a zero-argument `step` callable that returns the loss.

Timing is interleaved: each repetition times every variant once, in an order
rotated per repetition, so a slow patch of the machine (another process, a
frequency change) hits all variants alike. A repetition times `inner` calls in
a row and divides; the report gives medians and the ratio of each variant's
median to the case's baseline variant.

Before timing, each variant's first step is checked against the baseline's
first step (all variants start from the same values), so a fast variant that
computes something else is caught.

Times are steady-state times: each variant runs `warmup` untimed calls first, and a variant
that compiles as it runs (`settles`: stepjit compiled) runs on until it has reached what the
latency table calls its steady state, at least STEADY_CALLS calls and on while stepjit's
runtime still changes how a program runs (runtime.tree.settling: kernels compiling, a
native program being built). A trace goes native at its 64th reuse; with 20 warmup calls
the first repetitions timed the interpreted program (W1: the first ~9 of 30 at eager's
speed), which moved the median by the time the cache took to be warm.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class Variant:
    name: str
    setup: Callable[[], Callable[[], object]]
    # None when the variant can run here, else why it cannot (e.g. torch not installed).
    unavailable: Callable[[], Optional[str]] = lambda: None
    # Does it compile as it runs, so that its first calls are not its steady state? By
    # default: the variants named "stepjit compile..." (stepjit.compile's steps).
    settles: Optional[bool] = None

    def __post_init__(self):
        if self.settles is None:
            self.settles = self.name.startswith("stepjit compile")


@dataclass
class Case:
    name: str
    description: str
    variants: list
    baseline: str
    targets: dict = field(default_factory=dict)  # variant name -> ratio to baseline to stay under
    rtol: float = 1e-4  # first-step loss agreement with the baseline


@dataclass
class Timing:
    variant: str
    seconds: list  # one per repetition, per call

    @property
    def median(self):
        return statistics.median(self.seconds)

    def quantile(self, q):
        s = sorted(self.seconds)
        return s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class Result:
    case: Case
    timings: list
    skipped: dict  # variant name -> reason
    reps: int
    inner: int

    def ratio(self, variant):
        base = next(t for t in self.timings if t.variant == self.case.baseline)
        mine = next(t for t in self.timings if t.variant == variant)
        return mine.median / base.median


def check_agreement(case, steps):
    """Each variant's first loss must match the baseline's (same initial values)."""
    first = {name: float(step().item()) for name, step in steps.items()}
    want = first[case.baseline]
    for name, got in first.items():
        if not math.isclose(got, want, rel_tol=case.rtol):
            raise AssertionError(f"{case.name}: variant {name!r} computes loss {got!r}, "
                                 f"baseline {case.baseline!r} computes {want!r}")
    return first


CLOCKS = {"wall": time.perf_counter,
          # CPU time of the timing thread: on a machine shared with other work, wall time also
          # counts the time the scheduler gave to others. Valid where a step runs on this thread
          # alone (BLAS pinned to one thread, no parallel loops at these sizes).
          "cpu": time.thread_time,
          # CPU time of every thread of the process: what a step costs where it runs on other
          # threads too (jax.jit's XLA, parallel loops, BLAS threads); with wall time, the
          # parallel speedup and what it costs in cores
          "process": time.process_time}


# Calls of a compiling variant before it is timed: the latency table's steady state
# (benchmarks/workloads.py: the first call and 100 more), past a trace's promotion to one
# native program at its 64th reuse (stepjit/programs/program.py HOT_REUSE).
STEADY_CALLS = 100
SETTLE_SECONDS = 300


def settle(steps, done=0):
    """Run each of `steps` (compiling variants, `done` calls made already) until it is at its
    steady state: STEADY_CALLS calls in all, and on while stepjit's runtime reports a program
    still settling (bounded by SETTLE_SECONDS)."""
    if not steps:
        return
    for step in steps:
        for _ in range(max(0, STEADY_CALLS - done)):
            step()
    from stepjit.runtime import tree
    start = time.perf_counter()
    while tree.settling() and time.perf_counter() - start < SETTLE_SECONDS:
        for step in steps:
            step()


def run_case(case, *, reps=200, inner=5, warmup=20, only=None, log=print, clock="wall"):
    skipped = {}
    steps = {}
    for v in case.variants:
        if only and v.name not in only and v.name != case.baseline:
            continue
        reason = v.unavailable()
        if reason:
            skipped[v.name] = reason
            continue
        steps[v.name] = v.setup()
    if case.baseline not in steps:    # nothing to compare with (a GPU case on a machine without one)
        return Result(case, [], skipped, reps, inner)
    check_agreement(case, steps)
    names = list(steps)
    settling = {v.name for v in case.variants if v.settles and v.name in steps}
    for name in names:
        for _ in range(warmup):
            steps[name]()
    settle([steps[name] for name in names if name in settling], warmup)
    seconds = {name: [] for name in names}
    clock = CLOCKS[clock]
    for rep in range(reps):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            step = steps[name]
            start = clock()
            for _ in range(inner):
                step()
            seconds[name].append((clock() - start) / inner)
    timings = [Timing(name, seconds[name]) for name in names]
    return Result(case, timings, skipped, reps, inner)


def format_result(result):
    case = result.case
    lines = [f"{case.name}: {case.description}",
             f"  {result.reps} interleaved repetitions x {result.inner} calls; per-call times",
             f"  {'variant':<20} {'median':>10} {'p25':>10} {'p75':>10} {'vs ' + case.baseline:>14}"]
    for t in result.timings:
        ratio = result.ratio(t.variant)
        note = ""
        if t.variant in case.targets:
            target = case.targets[t.variant]
            note = f"  (target <= {target}x: {'met' if ratio <= target else 'NOT met'})"
        lines.append(f"  {t.variant:<20} {_us(t.median):>10} {_us(t.quantile(0.25)):>10} "
                     f"{_us(t.quantile(0.75)):>10} {ratio:>13.2f}x{note}")
    for name, reason in result.skipped.items():
        lines.append(f"  {name:<20} skipped: {reason}")
    return "\n".join(lines)


def _us(seconds):
    return f"{seconds * 1e6:.1f} us"


def as_dict(result):
    """A JSON-friendly summary, for tracking figures over time."""
    return {
        "case": result.case.name,
        "baseline": result.case.baseline,
        "reps": result.reps,
        "inner": result.inner,
        "variants": {t.variant: {"median_s": t.median, "p25_s": t.quantile(0.25),
                                 "p75_s": t.quantile(0.75), "ratio": result.ratio(t.variant)}
                     for t in result.timings},
        "skipped": result.skipped,
    }
