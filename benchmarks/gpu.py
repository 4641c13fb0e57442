"""`python -m benchmarks.gpu [--small] [--json FILE]`: the GPU cases (benchmarks/cases/cuda.py).

Prints the device and library versions, then each case's interleaved timings and ratios
(the harness of benchmarks/harness.py). `--small` shrinks every size and accepts Numba's CUDA
simulator, so the run can be rehearsed on a machine without a GPU; its timings mean nothing.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import traceback

from .cases import cuda as gpu_cases
from .harness import as_dict, format_result, run_case


def versions() -> dict:
    info = {"python": platform.python_version()}
    for name in ("numpy", "numba", "numba_cuda", "llvmlite", "cupy", "torch", "jax"):
        try:
            info[name] = __import__(name).__version__
        except Exception as e:   # an optional library absent or broken: say which
            info[name] = f"absent ({type(e).__name__})"
    import stepjit
    info["cuda_available"] = stepjit.cuda.is_available()
    info["simulator"] = stepjit.cuda.is_simulator()
    if info["cuda_available"]:
        info["device"] = stepjit.cuda.get_device_name()
    if not info["simulator"] and info["cuda_available"]:
        from numba import cuda
        info["driver"] = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
        info["runtime"] = ".".join(map(str, cuda.runtime.get_version()))
    return info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__)
    p.add_argument("--small", action="store_true", help="tiny sizes; the simulator is accepted")
    p.add_argument("--case", action="append", help="run only this case (repeatable)")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--inner", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    env = versions()
    print(" ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    if env["simulator"] and not args.small:
        print("the CUDA simulator is not a GPU: use --small to rehearse", file=sys.stderr)
        return 2
    results, failed = [], 0
    for case in gpu_cases.build(small=args.small):
        if args.case and case.name not in args.case:
            continue
        try:
            result = run_case(case, reps=args.reps, inner=args.inner, warmup=args.warmup)
        except Exception:    # one broken case must not cost the others their device time
            failed += 1
            print(f"{case.name}: FAILED\n{traceback.format_exc()}", flush=True)
            continue
        results.append(result)
        print(format_result(result), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "small": args.small,
                       "results": [as_dict(r) for r in results]}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
