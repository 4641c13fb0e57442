"""`python -m benchmarks.distributed [--ranks 1 2] [--steps 60] [--batch 128]`: DDP scaling.

The MNIST-shaped MLP (784-256-128-10, float32, CrossEntropyLoss, Adam) trained with
DistributedDataParallel on 1, 2, ... MPI ranks with the global batch fixed (each rank takes
batch/ranks rows): strong scaling. For each rank count it launches `mpiexec -n N` on this
module in worker mode, which times, on rank 0, the median step eagerly and compiled, and the
bucketed gradient all-reduce alone (the same bucket sizes, the same calls, without the
model); the parent prints per-step times, the scaling efficiency T(1) / (N * T(N)) and the
share of a step the all-reduce takes. One BLAS thread per rank.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from . import THREADS  # noqa: F401  (pins BLAS threads before NumPy loads)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _median_time(fn, steps, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(batch, steps):
    import numpy as np

    import stepjit as torch
    import stepjit.distributed as dist
    import stepjit.nn as nn
    from stepjit import dispatch
    from stepjit.ir.primitives import collective as C
    from stepjit.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    local = batch // size
    rng = np.random.default_rng(rank)
    x = torch.from_numpy(rng.standard_normal((local, 784), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, local))
    result = {"ranks": size, "local_batch": local}
    for mode in ("eager", "compiled"):
        torch.manual_seed(0)
        model = DDP(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                  nn.Linear(128, 10)))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        run = torch.compile(step) if mode == "compiled" else step
        dist.barrier()
        result[mode] = _median_time(lambda: run(x, y).item(), steps)
        buckets = [torch.zeros(sum(model._ddp_params[i].numel() for i in b)) for b in model._buckets]
    result["buckets"] = [b.numel() for b in buckets]
    dist.barrier()
    result["allreduce"] = _median_time(
        lambda: [dispatch.apply(C.all_reduce, b, op="avg") for b in buckets], steps)
    one = torch.zeros(1)
    result["latency"] = _median_time(lambda: dispatch.apply(C.all_reduce, one, op="avg"), steps)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def launch(ranks, batch, steps):
    from stepjit.distributed.launch import command
    cmd = command(ranks, "-m", ["benchmarks.distributed", "--worker", "--batch", str(batch),
                                "--steps", str(steps)])
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{ranks} ranks failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def report(results):
    base = results[0]
    print(f"{'ranks':>5} {'local batch':>11} {'eager step':>11} {'compiled':>10} "
          f"{'allreduce':>10} {'eff. eager':>10} {'eff. comp.':>10} {'AR share e/c':>13}")
    for r in results:
        n = r["ranks"] / base["ranks"]
        eff = {m: base[m] / (n * r[m]) for m in ("eager", "compiled")}
        share = f"{r['allreduce'] / r['eager']:.0%}/{r['allreduce'] / r['compiled']:.0%}"
        print(f"{r['ranks']:>5} {r['local_batch']:>11} {r['eager'] * 1e6:>9.0f}us "
              f"{r['compiled'] * 1e6:>8.0f}us {r['allreduce'] * 1e6:>8.0f}us "
              f"{eff['eager']:>10.2f} {eff['compiled']:>10.2f} {share:>13}")
    print(f"buckets (float32 elements): {results[-1]['buckets']}")
    if len(results) > 1:
        predict(results)


def predict(results):
    """The scaling model of docs/distributed.md, fitted here and extrapolated.

    T(p) = fixed + per_sample * B/p + A(p). `fixed` (the optimizer update, per-op Python) and
    `per_sample` come from the 1-rank step at the global batch and at half of it; a ring
    all-reduce of S bytes costs A(p) = 2 (p-1) alpha + 2 (p-1)/p * S / beta, alpha being the
    all-reduce of one float at 2 ranks over its 2 (p-1) = 2 messages and beta following from
    the bucket's all-reduce once alpha's share is taken out."""
    one, two = results[0], next(r for r in results if r["ranks"] == 2)
    half = results[-1]["half"]
    nbytes = 4 * sum(two["buckets"])
    alpha = two["latency"] / 2
    beta = nbytes / max(two["allreduce"] - 2 * alpha, 1e-9)      # 2 (p-1)/p = 1 at p = 2
    print(f"model: alpha {alpha * 1e6:.1f} us, beta {beta / 1e9:.2f} GB/s (this machine's "
          "shared memory; a cluster's interconnect has its own)")
    batch = one["local_batch"]
    for mode in ("eager", "compiled"):
        per_sample = max(one[mode] - half[mode], 0.0) / (batch / 2)
        fixed = one[mode] - per_sample * batch
        row = []
        for p in (2, 8, 64):
            ar = 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta
            row.append(f"{p} ranks {(fixed + per_sample * batch / p + ar) * 1e6:.0f}us")
        print(f"  {mode:>8}: {fixed * 1e6:.0f}us a step whatever the batch + "
              f"{per_sample * 1e6:.1f}us a sample")
        measured = two[mode] * 1e6
        print(f"  {mode:>8}: predicted {', '.join(row)}; measured at 2 ranks {measured:.0f}us")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__)
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=128, help="the global batch (default 128)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.batch, args.steps)
        return 0
    results = [launch(n, args.batch, args.steps) for n in args.ranks]
    if len(results) > 1:     # the 1-rank step at half the batch, for the model's fixed part
        results[-1]["half"] = launch(1, args.batch // 2, args.steps)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
