"""B4 (issue 5): compile latency of the two-layer step, in fresh Python processes.

`python -m benchmarks.compile_latency [--runs N]`

(a) cold: a fresh process with an empty STEPJIT_CACHE_DIR (a new temp dir):
    time from just before the first compiled call to its result (target < 3 s),
    and the whole process's wall time, `import stepjit` and Numba included;
(b) warm: a second fresh process on the cache (a) left: time to first result
    (target < 0.3 s), and whether those calls imported Numba (they need not: the
    kernels' machine-code entries, codegen/machine_cache.py, run without it);
(c) in each process, after the first calls, a new batch size (N=32): how many
    kernels are compiled and loaded for it (target: 0 compiled), read from
    stepjit.codegen.kernels.STATS before and after.

Each child also reports the second and third calls: the first call sees `.grad`
None and the second retraces for a `.grad` that now exists, so time-to-steady-state
is the sum of the first few calls. Every (a)/(b) pair uses its own cache dir;
the figures are medians over --runs pairs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys, time
t_start = time.perf_counter()
import benchmarks                      # pins BLAS threads like the other benchmarks
import numpy as np
import stepjit
from stepjit.codegen import kernels
t_import = time.perf_counter()
from benchmarks.cases._examples import load_example
from benchmarks.cases.two_layer import LR, initial_values

ex = load_example("two_layer_net")
x, y, w1, w2 = (stepjit.from_numpy(a) for a in initial_values())
w1.requires_grad_(); w2.requires_grad_()
step = stepjit.compile(ex.step, backend="cpu")
calls = []
for _ in range(3):
    t0 = time.perf_counter()
    loss = float(step(x, y, w1, w2, LR).item())
    calls.append(time.perf_counter() - t0)
stats_before = dict(kernels.STATS)
numba_imported = "numba" in sys.modules
xs, ys = (stepjit.from_numpy(np.ascontiguousarray(a[:32])) for a in initial_values()[:2])
t0 = time.perf_counter()
for _ in range(2):
    step(xs, ys, w1, w2, LR).item()
new_batch_s = time.perf_counter() - t0
stats_after = dict(kernels.STATS)
print("RESULT " + json.dumps({
    "import_s": t_import - t_start, "calls_s": calls, "first_loss": loss,
    "stats_after_first_calls": stats_before, "numba_imported": numba_imported,
    "new_batch_compiled": stats_after["compiled"] - stats_before["compiled"],
    "new_batch_loaded": stats_after["loaded"] - stats_before["loaded"],
    "new_batch_s": new_batch_s}))
'''


def run_child(cache_dir):
    env = dict(os.environ, STEPJIT_CACHE_DIR=cache_dir,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"child process failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    out["process_wall_s"] = wall
    return out


def _fmt(values):
    med = statistics.median(values)
    return f"{med:7.3f} s  (min {min(values):.3f}, max {max(values):.3f})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compile_latency",
                                description="B4: compile latency of the compiled two-layer step")
    p.add_argument("--runs", type=int, default=3, help="cold/warm process pairs (default 3)")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    cold, warm = [], []
    for i in range(args.runs):
        d = tempfile.mkdtemp(prefix="stepjit-b4-")
        try:
            cold.append(run_child(d))
            warm.append(run_child(d))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        print(f"run {i + 1}/{args.runs}: cold first call {cold[-1]['calls_s'][0]:.3f} s, "
              f"warm first call {warm[-1]['calls_s'][0]:.3f} s", flush=True)

    def col(rs, key, idx=None):
        return [r[key] if idx is None else r[key][idx] for r in rs]

    cold_first = statistics.median(col(cold, "calls_s", 0))
    warm_first = statistics.median(col(warm, "calls_s", 0))
    new_compiled = max(col(cold, "new_batch_compiled") + col(warm, "new_batch_compiled"))
    print(f"B4 compile latency, two-layer step (N=64 D_in=1000 H=100 D_out=10 float32), "
          f"{args.runs} cold/warm process pairs, medians (min, max)")
    print("(a) empty STEPJIT_CACHE_DIR, fresh process")
    print(f"    first compiled call to its result  {_fmt(col(cold, 'calls_s', 0))}"
          f"   target < 3 s: {'met' if cold_first < 3 else 'NOT met'}")
    print(f"    second call (retrace: .grad exists) {_fmt(col(cold, 'calls_s', 1))}")
    print(f"    third call                          {_fmt(col(cold, 'calls_s', 2))}")
    print(f"    import benchmarks+stepjit           {_fmt(col(cold, 'import_s'))}")
    print(f"    whole process wall time             {_fmt(col(cold, 'process_wall_s'))}")
    print(f"    kernels compiled by the first calls {col(cold, 'stats_after_first_calls')[0]['compiled']}"
          f"   (machine-code entries built: "
          f"{col(cold, 'stats_after_first_calls')[0]['entries_built']})")
    print("(b) warm cache (left by (a)), second fresh process")
    print(f"    first compiled call to its result  {_fmt(col(warm, 'calls_s', 0))}"
          f"   target < 0.3 s: {'met' if warm_first < 0.3 else 'NOT met'}")
    print(f"    second call                         {_fmt(col(warm, 'calls_s', 1))}")
    print(f"    import benchmarks+stepjit           {_fmt(col(warm, 'import_s'))}")
    print(f"    whole process wall time             {_fmt(col(warm, 'process_wall_s'))}")
    print(f"    kernels loaded / compiled           "
          f"{col(warm, 'stats_after_first_calls')[0]['loaded']} / "
          f"{col(warm, 'stats_after_first_calls')[0]['compiled']}"
          f"   (machine-code entries: {col(warm, 'stats_after_first_calls')[0]['entries_loaded']})")
    print(f"    Numba imported by the first calls   {col(warm, 'numba_imported')}")
    print("(c) new batch size N=32 in the same process, after the first calls")
    print(f"    kernels compiled: cold process {col(cold, 'new_batch_compiled')}, "
          f"warm process {col(warm, 'new_batch_compiled')}; loaded: "
          f"{col(cold, 'new_batch_loaded')}, {col(warm, 'new_batch_loaded')}"
          f"   target 0 compiled: {'met' if new_compiled == 0 else 'NOT met'}")
    print(f"    two calls at N=32 (retrace included) {_fmt(col(cold, 'new_batch_s'))}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cold": cold, "warm": warm}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
