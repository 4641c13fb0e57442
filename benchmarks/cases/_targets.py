"""What issue 5's cases need beyond benchmarks/harness.py, kept out of the harness.

- `relative`: targets between two variants, neither of which is the baseline
  ("stepjit compile at least 5x faster than jax.jit"): (variant, other, factor)
  means median(variant) * factor <= median(other).
- `reps` / `inner`: the repetitions and calls per repetition a case wants when
  it runs from `python -m benchmarks.issue5` (a 10 us step needs many calls per
  timed repetition; a 30 ms one needs few repetitions). `python -m benchmarks`
  ignores them and uses its command-line values.
- numba_threads(): the harness pins BLAS and PyTorch to STEPJIT_BENCH_THREADS
  (1 by default) but not Numba, whose prange loops would otherwise use every
  core; the compiled kernels and the hand-written Numba baselines run in the
  same process, so both get the same thread count.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..harness import Case
from .. import THREADS


@dataclass
class TargetCase(Case):
    relative: list = field(default_factory=list)  # (variant, other, factor)
    reps: int = 200
    inner: int = 5
    warmup: int = 20


def relative_lines(result):
    """One line per relative target whose two variants both ran."""
    medians = {t.variant: t.median for t in result.timings}
    lines = []
    for variant, other, factor in getattr(result.case, "relative", ()):
        if variant not in medians or other not in medians:
            missing = other if variant in medians else variant
            why = result.skipped.get(missing, "not run")
            lines.append(f"  target {variant} >= {factor}x faster than {other}: "
                         f"not measured ({missing}: {why})")
            continue
        speedup = medians[other] / medians[variant]
        ok = speedup >= factor
        lines.append(f"  target {variant} >= {factor}x faster than {other}: "
                     f"{speedup:.2f}x ({'met' if ok else 'NOT met'})")
    return lines


def numba_threads():
    """Give Numba's parallel loops the benchmark thread count (1 by default). Before Numba is
    imported this is its environment variable, read at import: a variant's setup must not
    import Numba itself, or a warm first call (which runs cached machine code without
    Numba) would be timed with Numba's import."""
    import sys
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(max(1, min(THREADS, os.cpu_count() or 1)))
        return
    import numba
    numba.set_num_threads(max(1, min(THREADS, numba.config.NUMBA_NUM_THREADS)))


def _one_core_pools(start):
    """Run start() (which makes XLA's CPU client) while this process may use one core, then give
    every thread back the process's cores. XLA runs a step's independent operations at once on
    a pool sized by the cores the process may use (the flags above only keep each operation on
    one thread): started with two cores, W3's step spread 2.2 ms of CPU time over four threads
    and took less wall time than CPU time; started with one, one pool thread runs it."""
    if not hasattr(os, "sched_setaffinity"):
        start()
        return
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        start()
    finally:
        for tid in os.listdir("/proc/self/task"):   # the pool's threads too, not only this one
            try:
                os.sched_setaffinity(int(tid), cores)
            except OSError:
                pass


def jax_missing():
    """None if jax imports, else why not. Pins XLA's CPU threads like the other baselines."""
    if THREADS == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()
    try:
        import jax
        jax.config.update("jax_platforms", "cpu")
        if THREADS == 1:
            _one_core_pools(jax.devices)
    except ImportError:
        return "jax is not installed (optional baseline)"
    except Exception as e:  # noqa: BLE001 - a broken jax install is a reason to skip
        return f"jax unavailable: {type(e).__name__}: {e}"
    return None
