"""`python -m benchmarks [--case NAME] [--reps N] [--inner K] [--json FILE]`."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import numpy as np

from . import THREADS
from .cases import CASES
from .harness import as_dict, format_result, run_case


def build_parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="Time stepjit against baselines, interleaved.")
    p.add_argument("--case", action="append", choices=[c.name for c in CASES],
                   help="run only this case (repeatable; default: all)")
    p.add_argument("--variant", action="append",
                   help="run only this variant, plus the baseline (repeatable)")
    p.add_argument("--reps", type=int, default=200, help="interleaved repetitions (default 200)")
    p.add_argument("--inner", type=int, default=5, help="calls per timed repetition (default 5)")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls per variant (default 20)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--clock", choices=("wall", "cpu", "process"), default="wall",
                   help="time by the wall clock (default), by this thread's CPU time, which a "
                        "machine busy with other work disturbs less, or by the CPU time of all "
                        "the process's threads (steps that run on other threads too)")
    p.add_argument("--list", action="store_true", help="list the cases and variants, then exit")
    return p


def environment():
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = THREADS
    except ImportError:
        pass
    return info


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    cases = [c for c in CASES if not args.case or c.name in args.case]
    if args.list:
        for c in cases:
            print(f"{c.name}: {', '.join(v.name for v in c.variants)} (baseline {c.baseline})")
        return 0
    known = {v.name for c in cases for v in c.variants}
    unknown = set(args.variant or ()) - known
    if unknown:
        print(f"unknown variant(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}",
              file=sys.stderr)
        return 2
    env = environment()
    print(" ".join(f"{k}={v}" for k, v in env.items()))
    results = []
    for case in cases:
        result = run_case(case, reps=args.reps, inner=args.inner, warmup=args.warmup,
                          only=args.variant, clock=args.clock)
        results.append(result)
        print(format_result(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": [as_dict(r) for r in results]}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
