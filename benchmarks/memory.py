"""Does a long compiled run keep its memory flat? `python -m benchmarks.memory [--calls N]
[--sizes N]`.

Two runs of one small training step (a two-layer net with a mean loss and an in-place SGD
update), each in its own process, printing the resident set size (RSS, /proc/self/statm)
at checkpoints:

  calls   the same batch shape called N times (default 10,000): after the first calls
          (compile, caches) nothing should grow;
  sizes   N different batch sizes (default 1,000), 1, 2, ..., N in a shuffled (seeded)
          order, so that the sizes cached at any time are alike, with the recompile limit
          raised so that every size is compiled: each is a new trace and program (shapes
          are guarded), but kernels are shape-generic, so no kernel is compiled after the
          first sizes. The trace cache keeps `config.dynamo.trace_cache_limit` roots (64) and the
          shared program cache 64 programs, least recently used first: once they are full,
          RSS should stop growing (evictions are counted). (In increasing order, RSS would
          grow anyway: the cached programs' workspace grows with the batch size.)

Figures are RSS in MiB; growth is measured from a checkpoint after warm-up, and for sizes
also from the first checkpoint after the caches filled (size 300).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r'''
import json, os, sys, numpy as np, stepjit as torch
from stepjit.codegen import kernels

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20

case, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
w1 = torch.tensor(rng.standard_normal((8, 16)).astype(np.float32) * 0.1, requires_grad=True)
w2 = torch.tensor(rng.standard_normal((16, 4)).astype(np.float32) * 0.1, requires_grad=True)

@torch.compile(recompile_limit=n + 10)   # sizes: every size compiled, none falls back
def step(x, y):
    loss = ((x @ w1).relu() @ w2 - y).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        for w in (w1, w2):
            w -= 1e-3 * w.grad
            w.grad.zero_()
    return loss

points = []
checkpoints = {1, 10, 100, 300, n // 10, n // 4, n // 2, 3 * n // 4, n}
if case == "calls":
    x = torch.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    for i in range(1, n + 1):
        step(x, y)
        if i in checkpoints:
            points.append((i, rss_mib(), kernels.STATS["compiled"]))
else:
    order = np.random.default_rng(1).permutation(np.arange(1, n + 1))
    for i, size in enumerate(order, 1):
        x = torch.tensor(rng.standard_normal((size, 8)).astype(np.float32))
        y = torch.tensor(rng.standard_normal((size, 4)).astype(np.float32))
        step(x, y)
        if i in checkpoints:
            points.append((i, rss_mib(), kernels.STATS["compiled"]))
stats = step.stats()
from stepjit.runtime import tree
print(json.dumps({"points": points, "compiles": stats["compiles"],
                  "fallbacks": stats["fallbacks"], "evictions": stats.get("evictions", 0),
                  "cached_traces": stats["cached_traces"], "programs": len(tree._PROGRAMS),
                  "programs_evicted": getattr(tree, "PROGRAM_STATS", {}).get("evicted", 0)}))
'''


def run(case, n):
    out = subprocess.run([sys.executable, "-c", WORKER, case, str(n)], capture_output=True,
                         text=True, env=dict(os.environ), timeout=3600)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(case, result, unit):
    points = result["points"]
    print(f"{case}: {unit:>8} {'RSS MiB':>9} {'kernels compiled':>17}")
    for i, rss, compiled in points:
        print(f"{'':{len(case) + 1}} {i:>8} {rss:>9.1f} {compiled:>17}")
    base = next(p for p in points if p[0] >= max(10, points[-1][0] // 10))
    growth = points[-1][1] - base[1]
    per = growth / max(1, points[-1][0] - base[0]) * 1024
    print(f"  growth from {unit} {base[0]} to {points[-1][0]}: {growth:+.1f} MiB "
          f"({per:+.2f} KiB per {unit.rstrip('s')}); traces compiled {result['compiles']}, "
          f"eager fallbacks {result['fallbacks']}")
    full = next((p for p in points if p[0] >= 300), None)
    if case == "sizes" and full is not None and full is not points[-1]:
        growth = points[-1][1] - full[1]
        per = growth / (points[-1][0] - full[0]) * 1024
        print(f"  growth from {unit} {full[0]} (caches full) to {points[-1][0]}: {growth:+.1f} "
              f"MiB ({per:+.2f} KiB per size)")
    print(f"  at the end: {result['cached_traces']} cached traces ({result['evictions']} "
          f"evicted), {result['programs']} shared programs ({result['programs_evicted']} "
          "evicted)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--sizes", type=int, default=1_000)
    args = ap.parse_args(argv)
    if args.calls:
        report("calls", run("calls", args.calls), "calls")
    if args.sizes:
        report("sizes", run("sizes", args.sizes), "sizes")


if __name__ == "__main__":
    main()
