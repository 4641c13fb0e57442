"""`python -m benchmarks.threads`: the compiled steps on 1 thread against N, in one run.

The other benchmarks pin every variant to one thread (STEPJIT_BENCH_THREADS, default 1).
This one asks what more cores buy: it runs in a process whose pools have N threads (Numba's
for stepjit's parallel loops, OpenBLAS's for matmuls; N = --threads, default the core
count), and times each case's variants limited to 1 thread before each of their calls, given
N, and (stepjit's) left to the default, where each program picks 1 or N threads from its own
calls' times (stepjit/programs/threads.py), interleaved (rotated every repetition) in one run.

Each repetition is timed by the wall clock (the speedup) and by the CPU time of all the
process's threads (what the speedup costs in cores: a parallel loop whose workers spin or
wait costs CPU time without shortening the step). On a machine shared with other work, N
threads get N cores only when the others leave them idle, so the report gives the load
average before and after.

    python -m benchmarks.threads                                   # W3, W5 (= B3)
    python -m benchmarks.threads --case adam_10m --reps 10 --inner 1
    python -m benchmarks.threads --variant "numba fused loop"      # a hand-written baseline too
"""
from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

CASES = {"w3_mnist_mlp_adam": "W3", "adam_10m": "W5"}
SIZES = {"w3_mnist_mlp_adam": (40, 3), "adam_10m": (10, 1)}


def set_threads(n):
    """Limit Numba's parallel loops and OpenBLAS to n threads (at most their pools' sizes), for
    code that is not a stepjit program (a hand-written baseline); stepjit's programs set
    their own around each call (stepjit/programs/threads.py), from stepjit.set_num_threads."""
    import numba
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    from stepjit.codegen import blas
    functions = blas.thread_functions()
    if functions is not None:
        functions[1](n)


def pinned(step, n):
    """step, run with n threads; n None: stepjit's default (the program picks 1 or the pools'
    size from its own calls' times; the pools as the process started)."""
    import stepjit
    import stepjit.threads

    def call():
        set_threads(n or POOL[0])
        if n is None:
            stepjit.threads._REQUESTED = None     # (no public call undoes set_num_threads)
        else:
            stepjit.set_num_threads(n)
        return step()
    return call


POOL = [1]      # the pools' size in this process (--threads)


def measure(steps, reps, inner, warmup):
    """{name: ([wall seconds per call], [process CPU seconds per call])}, interleaved."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    names = list(steps)
    out = {name: ([], []) for name in names}
    for rep in range(reps):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            step = steps[name]
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(inner):
                step()
            out[name][0].append((time.perf_counter() - wall) / inner)
            out[name][1].append((time.process_time() - cpu) / inner)
    return out


def run(case_name, threads, reps, inner, variants):
    from .cases import CASES as ALL
    case = next(c for c in ALL if c.name == case_name)
    steps = {}
    for v in case.variants:
        if v.name not in variants or v.unavailable():
            continue
        counts = (1, threads, None) if v.name.startswith("stepjit") else (1, threads)
        for n in counts:
            label = "default" if n is None else f"{n} thread{'s' if n > 1 else ''}"
            steps[f"{v.name}, {label}"] = pinned(v.setup(), n)
    first = {name: float(step().item()) for name, step in steps.items()}
    want = next(iter(first.values()))
    for name, got in first.items():    # the same step, whatever the thread count
        if abs(got - want) > case.rtol * abs(want):
            raise AssertionError(f"{case_name}: {name} computes {got!r}, not {want!r}")
    return measure(steps, reps, inner, warmup=max(getattr(case, "warmup", 20), 3))


def report(case_name, figures, threads):
    print(f"{CASES.get(case_name, '')} {case_name}: medians per call; speedup = 1 thread's / "
          f"this row's wall time, cores = CPU time / wall time")
    print(f"  {'variant':<34} {'wall':>10} {'CPU':>10} {'cores':>6} {'speedup':>8}")
    base = {}
    for name, (wall, cpu) in figures.items():
        w, c = statistics.median(wall), statistics.median(cpu)
        variant = name.rsplit(", ", 1)[0]
        base.setdefault(variant, w)
        print(f"  {name:<34} {w * 1e3:>8.2f}ms {c * 1e3:>8.2f}ms {c / w:>6.2f} "
              f"{base[variant] / w:>7.2f}x")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", choices=sorted(CASES))
    p.add_argument("--variant", action="append", default=[],
                   help="also time this variant of the case on 1 and N threads (repeatable)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--reps", type=int, help="interleaved repetitions (default: per case)")
    p.add_argument("--inner", type=int, help="calls per timed repetition (default: per case)")
    args = p.parse_args(argv)
    from . import THREADS
    if THREADS < args.threads:    # the pools are sized when NumPy and Numba load: start again
        env = dict(os.environ, STEPJIT_BENCH_THREADS=str(args.threads),
                   NUMBA_NUM_THREADS=str(args.threads))
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.pop(var, None)
        argv = sys.argv[1:] if argv is None else argv
        return subprocess.call([sys.executable, "-m", "benchmarks.threads", *argv], env=env)
    POOL[0] = args.threads
    print(f"threads {args.threads}, cpus {os.cpu_count()}, load average before "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for case_name in args.case or list(CASES):
        reps, inner = SIZES[case_name]
        figures = run(case_name, args.threads, args.reps or reps, args.inner or inner,
                      ["stepjit compile", *args.variant])
        report(case_name, figures, args.threads)
    print(f"load average after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
