"""`python -m benchmarks.issue5 [--case NAME] [--reps N] [--inner K]`: issue 5's cases
(two_layer_compiled, logistic_4x2, adam_10m), each with its own repetitions and calls
per repetition, and every target checked, including the ones between two variants
("stepjit compile at least 5x faster than jax.jit") that `python -m benchmarks`
cannot express. Compile latency (B4) is `python -m benchmarks.compile_latency`.
"""
from __future__ import annotations

import argparse
import json
import sys

from .__main__ import environment
from .cases import adam, compiled_two_layer, logistic
from .cases._targets import relative_lines
from .harness import as_dict, format_result, run_case

CASES = [compiled_two_layer.CASE, logistic.CASE, adam.CASE]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.issue5", description=__doc__.split("\n")[0])
    p.add_argument("--case", action="append", choices=[c.name for c in CASES])
    p.add_argument("--reps", type=int, help="override every case's repetitions")
    p.add_argument("--inner", type=int, help="override every case's calls per repetition")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    env = environment()
    print(" ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    out = []
    for case in CASES:
        if args.case and case.name not in args.case:
            continue
        result = run_case(case, reps=args.reps or case.reps, inner=args.inner or case.inner,
                          warmup=case.warmup)
        print(format_result(result))
        for line in relative_lines(result):
            print(line)
        print(flush=True)
        out.append(as_dict(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": out}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
