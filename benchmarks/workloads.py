"""`python -m benchmarks.workloads`: the real-workload steps W1-W8 side by side.

Runs each workload's case (every variant interleaved in one run, one thread each) and prints
one table: time per training step relative to PyTorch eager (to the case's own baseline when
PyTorch is absent), and which system is fastest. `--latency` also measures stepjit's first
compiled call in fresh processes: cold (an empty kernel cache) and warm (the cache the cold
process left), and the time to steady state: 100 more steps, and on until no kernel is still
compiling and no native program still being built (runtime.tree.settling), in wall
and CPU seconds (the machine may be shared; the case's setup is not timed), against the
targets (2 s, 4 s, 0.3 s); `--latency-only` measures only those.

    W1  two_layer_compiled   tutorial two-layer net 64x1000x100x10, SGD
    W2  w2_makemore_mlp      makemore MLP, embedding, tanh 200, cross_entropy, SGD, batch 32
    W3  w3_mnist_mlp_adam    MLP 784-256-128-10, batch 128, CrossEntropyLoss, Adam
    W4  logistic_4x2         logistic regression 4x2, SGD
    W5  adam_10m             Adam step over 10M parameters
    W6  w6_rnn_unrolled      tanh RNN cell unrolled 16 steps, hidden 64, batch 16
    W7  w7_cnn               CNN Conv2d(1,8,3) ReLU MaxPool2d Linear, batch 32 of 1x28x28, SGD
    W8  w8_char_transformer  2-layer character transformer, n_embd 32, 2 heads, block 16, AdamW
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from .cases import CASES
from .harness import format_result, run_case

WORKLOADS = [("W1", "two_layer_compiled"), ("W2", "w2_makemore_mlp"),
             ("W3", "w3_mnist_mlp_adam"), ("W4", "logistic_4x2"), ("W5", "adam_10m"),
             ("W6", "w6_rnn_unrolled"), ("W7", "w7_cnn"), ("W8", "w8_char_transformer")]
COLUMNS = ["stepjit compile", "stepjit eager", "torch eager", "torch.compile", "jax.jit",
           "numpy", "numba whole-step", "numba fused loop"]
# reps x inner per workload: a few seconds each on a 2-core machine
SIZES = {"two_layer_compiled": (60, 5), "w2_makemore_mlp": (60, 10), "w3_mnist_mlp_adam": (30, 3),
         "logistic_4x2": (40, 100), "adam_10m": (8, 1), "w6_rnn_unrolled": (60, 10),
         "w7_cnn": (40, 3), "w8_char_transformer": (40, 3)}

_FIRST_CALL = r"""
import os, resource, sys, time, json
from benchmarks.cases import CASES
case = next(c for c in CASES if c.name == sys.argv[1])
variant = next(v for v in case.variants if v.name == "stepjit compile")
step = variant.setup()          # (the case's data and parameters: not the call's time)


def cpu():
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


from stepjit.runtime import tree
start, cpu0 = time.perf_counter(), cpu()
step().item()
first, first_cpu = time.perf_counter() - start, cpu() - cpu0
steps = int(sys.argv[2])
for _ in range(steps):
    step()
while tree.settling() and time.perf_counter() - start < 300:
    step()      # (kernels still compiling, or a native program still being built)
    steps += 1
steady, steady_cpu = time.perf_counter() - start, cpu() - cpu0
print(json.dumps({"first": first, "first_cpu": first_cpu, "steady": steady,
                  "steady_cpu": steady_cpu, "steps": steps, "load": os.getloadavg()[0]}))
"""


def first_calls(case_name, calls=100):
    """Seconds to stepjit's first compiled result in fresh processes, cold (an empty kernel
    cache) and warm (the cache the cold process left), and the cold process's time to steady
    state: until `calls` more steps are done and no program still settles (kernels compiling
    while groups run interpreted, a native program being built: runtime.tree.settling); each
    as (wall, CPU) seconds of that process and its children (a helper process still running
    is not counted), timed from the first call (the case's setup excluded).
    Also the 1-minute load average at the end of the warm run."""
    out = []
    _compile_bytecode()
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, STEPJIT_CACHE_DIR=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", _FIRST_CALL, case_name, str(calls)],
                               env=env, capture_output=True, text=True, check=True)
            out.append(json.loads(r.stdout.strip().splitlines()[-1]))
    cold, warm = out
    return ((cold["first"], cold["first_cpu"]), (cold["steady"], cold["steady_cpu"]),
            (warm["first"], warm["first_cpu"]), cold["steps"], warm["load"])


def _compile_bytecode():
    """Byte-compile stepjit and benchmarks, as installing a package does: in an environment
    with PYTHONDONTWRITEBYTECODE set, every fresh process would otherwise compile stepjit's
    source again, over half of a warm first call."""
    import compileall
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for pkg in ("stepjit", "benchmarks"):
        compileall.compile_dir(os.path.join(root, pkg), quiet=1)


def table(results, latency):
    lines = ["| workload | " + " | ".join(COLUMNS) + " | fastest |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for label, result in results:
        med = {t.variant: t.median for t in result.timings}
        ref = med.get("torch eager", med.get(result.case.baseline))
        cells = [f"{med[c] / ref:.3g}" if c in med else "-" for c in COLUMNS]
        systems = {k: v for k, v in med.items() if k in COLUMNS}   # not a floor like "5 matmuls"
        best = min(systems, key=systems.get)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {best} |")
    ref_name = "PyTorch eager (the case's baseline where PyTorch is absent)"
    lines.append(f"\ntime per step relative to {ref_name}; medians of interleaved runs")
    if latency:
        lines.append(latency_table(latency))
    return "\n".join(lines)


# Targets, in seconds: (first call with an empty cache, steady state, warm first call)
LATENCY_TARGETS = (2.0, 4.0, 0.3)


def latency_table(latency):
    """latency: (label, (cold, steady, warm, steps, load)), each of the three (wall, CPU)
    seconds; steps: how many the steady state took."""
    head = ("\n| workload | first compiled call, empty cache | steady state reached (first call "
            "+ 100 steps, and on until nothing compiles) | steps | first call, warm cache "
            "| load |\n|---|---|---|---|---|---|")
    rows = [head]
    for label, (*times, steps, load) in latency:
        cells = [f"{t:.2f} s ({c:.2f} s CPU)" + ("" if t < limit else f" over {limit:g} s")
                 for (t, c), limit in zip(times, LATENCY_TARGETS)]
        cells.insert(2, str(steps))
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {load:.1f} |")
    rows.append("\nwall seconds, with the process's CPU seconds (its children's included); "
                "load: the 1-minute load average after the warm run")
    return "\n".join(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.workloads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", help="W1..W8 (repeatable; default: all)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the repetitions")
    p.add_argument("--clock", choices=("wall", "cpu", "process"), default="wall",
                   help="wall clock (default), this thread's CPU time, or the CPU time of all "
                        "the process's threads (jax.jit spreads a step over several)")
    p.add_argument("--latency", action="store_true", help="also time first calls, cold and warm")
    p.add_argument("--latency-only", action="store_true",
                   help="only the first calls, cold and warm (no interleaved timing)")
    args = p.parse_args(argv)
    cases = {c.name: c for c in CASES}
    results, latency = [], []
    for label, name in WORKLOADS:
        if args.only and label not in args.only:
            continue
        if args.latency_only:
            latency.append((label, first_calls(name)))
            print(latency_table(latency[-1:]).splitlines()[-3], flush=True)
            continue
        reps, inner = SIZES[name]
        case = cases[name]
        result = run_case(case, reps=max(3, int(reps * args.scale)), inner=inner,
                          warmup=getattr(case, "warmup", 20), clock=args.clock)
        print(format_result(result), flush=True)
        results.append((label, result))
        if args.latency:
            latency.append((label, first_calls(name)))
    print()
    print(table(results, latency) if results else latency_table(latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
