"""`python -m benchmarks.profiler_coverage [--steps 200]`: does the profile account for the step?

For the tutorial two-layer step (N=64, D_in=1000, H=100, D_out=10), eagerly and compiled (hot),
it times `steps` calls without a profile, then the same calls inside `profiler.profile()`, and
prints: what the outermost events add up to per step, against the unprofiled step (the claim:
the per-phase totals account for the step); the share of the profiled loop's wall time they
cover (the rest: Python between ops, the loop, and the recording itself); and the
profiled/unprofiled ratio (what recording costs). Single-threaded BLAS.
"""
from __future__ import annotations

import argparse
import sys
import time

from . import THREADS  # noqa: F401  (pins BLAS threads before NumPy loads)


def _tutorial(compiled):
    import stepjit as torch
    torch.manual_seed(0)
    x, y = torch.randn(64, 1000), torch.randn(64, 10)
    w1 = torch.randn(1000, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)

    def step(x, y):      # no record_function: the events are the library's own
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    f = torch.compile(step) if compiled else step
    for _ in range(80):      # hot: past native promotion
        f(x, y)
    return lambda: f(x, y)


def _outermost(events):
    out, end = [], -1
    for e in sorted(events, key=lambda e: (e.start, -e.dur)):
        if e.start >= end:
            out.append(e)
            end = e.end
    return out


def measure(compiled, steps):
    from stepjit import profiler
    call = _tutorial(compiled)
    start = time.perf_counter()
    for _ in range(steps):
        call()
    plain = time.perf_counter() - start
    with profiler.profile() as prof:
        start = time.perf_counter_ns()
        for _ in range(steps):
            call()
        wall = time.perf_counter_ns() - start
    covered = sum(e.dur for e in _outermost(prof.events))
    return plain / steps, wall / 1e9 / steps, covered / wall, covered / 1e9 / steps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profiler_coverage", description=__doc__)
    p.add_argument("--steps", type=int, default=200)
    args = p.parse_args(argv)
    print(f"{'mode':<9} {'step':>10} {'events/step':>12} {'vs step':>8} {'profiled':>10} "
          f"{'ratio':>6} {'of profiled wall':>17}")
    for compiled in (False, True):
        plain, profiled, share, events = measure(compiled, args.steps)
        print(f"{'compiled' if compiled else 'eager':<9} {plain * 1e6:>8.0f}us "
              f"{events * 1e6:>10.0f}us {events / plain - 1:>+8.1%} {profiled * 1e6:>8.0f}us "
              f"{profiled / plain:>5.2f}x {share:>16.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
