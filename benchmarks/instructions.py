"""Machine instructions per tutorial two-layer step, eager stepjit and hand-written NumPy, counted
by cachegrind: a measure of the Python work per step that does not move with the machine's load.

    python -m benchmarks.instructions [--size 4|full]

Needs valgrind. Each variant runs twice under cachegrind (20 and 220 measured steps, after 20
warm-up steps); the difference over 200 steps is one step's instructions. The garbage
collector is off while measuring (a collection landing in one run and not the other would
not repeat) and PYTHONHASHSEED is fixed; BLAS is pinned to one thread by importing
`benchmarks` first (spinning BLAS threads would make the counts vary).

The counts repeat exactly for one tree at one path, but move by up to ~0.5% (about 2,000 a
step) with the checkout's path: 27ef2f6 counted 479,585 at one path and 481,689 at another.
To compare two versions, check each out at the same path in turn.
"""
import argparse
import gc
import os
import re
import shutil
import subprocess
import sys

import benchmarks  # noqa: F401  (pins BLAS threads before NumPy loads OpenBLAS)

SHAPES = {"4": ((4, 4),) * 4, "full": ((64, 1000), (64, 10), (1000, 100), (100, 10))}


def _steps(variant, size, n):
    """Run n steps of `variant` (after 20 warm-up steps) with the collector off."""
    import numpy as np
    from benchmarks.cases.two_layer import numpy_step
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in SHAPES[size]]
    if variant == "numpy":
        def step():
            numpy_step(*arrays, 1e-6)
    else:
        import stepjit
        from benchmarks.cases._examples import load_example
        ex = load_example("two_layer_net", "stepjit")
        x, y, w1, w2 = [stepjit.from_numpy(a) for a in arrays]
        w1.requires_grad_()
        w2.requires_grad_()

        def step():
            ex.step(x, y, w1, w2, 1e-6)
    for _ in range(20):
        step()
    gc.collect()
    gc.disable()
    for _ in range(n):
        step()


def _count(variant, size, n):
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, "-m", "benchmarks.instructions", "--run", variant, "--size", size,
           "--steps", str(n)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stderr
    return int(re.search(r"I\s+refs:\s+([\d,]+)", out).group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SHAPES), default="4")
    parser.add_argument("--run", choices=("numpy", "stepjit"), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.run:   # the child valgrind runs
        _steps(opts.run, opts.size, opts.steps)
        return
    if shutil.which("valgrind") is None:
        sys.exit("benchmarks.instructions needs valgrind (cachegrind)")
    per_step = {v: (_count(v, opts.size, 220) - _count(v, opts.size, 20)) // 200
                for v in ("numpy", "stepjit")}
    print(f"instructions per tutorial step ({opts.size}): numpy {per_step['numpy']:,}, "
          f"stepjit eager {per_step['stepjit']:,} "
          f"({per_step['stepjit'] / per_step['numpy']:.2f}x)")


if __name__ == "__main__":
    main()
