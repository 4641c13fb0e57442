"""Fused transcendental loops at 1e5 float32 elements against NumPy's ufuncs.

One case per function: `y = f(x)` over 100,000 float32 values, a fresh result each call
(NumPy allocates too). `stepjit compile` runs the compiled function (the call path, the
generated loop with codegen/vmath.py's function in it, the result tensor); `stepjit
kernel` calls the same generated loop kernel directly into a preallocated output, the
time per element of the loop alone; `math.* loop` is the loop as generated before
codegen/vmath.py (`math.tanh` per element, one libm call per lane). Target: the compiled
loop within 1.5x of the ufunc. erf has no NumPy ufunc: its case's baseline is the libm loop.
"""
from __future__ import annotations

import numpy as np

from ..harness import Variant
from ._targets import TargetCase, numba_threads
from .workloads import _kernels_only

N = 100_000


class _Sum:
    """The step's result, summed only when the harness compares first results."""
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a

    def item(self):
        return float(np.sum(np.asarray(self.a), dtype=np.float64))


def _input(name):
    x = np.random.default_rng(0).uniform(-5.0, 5.0, N).astype(np.float32)
    return np.abs(x) + np.float32(0.1) if name == "log" else x


def _numpy(name):
    def setup():
        x, f = _input(name), getattr(np, name)
        return lambda: _Sum(f(x))
    return setup


def _compiled(name):
    def setup():
        import stepjit
        numba_threads()
        x = stepjit.tensor(_input(name))
        fn = stepjit.compile(lambda t: getattr(t, name)())
        return lambda: _Sum(fn(x).numpy())
    return setup


def _kernel(name):
    """The compiled program's one loop kernel, called straight (no call path, no allocation)."""
    def setup():
        import stepjit
        numba_threads()
        x = stepjit.tensor(_input(name))
        fn = stepjit.compile(lambda t: getattr(t, name)())
        build = _kernels_only(fn, [x])      # its own programs, never native
        for _ in range(3):
            build()
        steps = [s for _, prog in fn.programs.values() for s in getattr(prog, "steps", ())
                 if hasattr(s, "kernel")]
        if len(steps) != 1:
            raise RuntimeError(f"expected one loop kernel, found {len(steps)} "
                               "(the program went native?)")
        kernel = steps[0].kernel.fastest()
        a, o = x.numpy(), np.empty(N, np.float32)
        return lambda: (kernel(a, o, N), _Sum(o))[1]
    return setup


def _scalar_loop(name):
    """The loop generated code held before codegen/vmath.py: `math.<name>` per element, which
    LLVM widens to a vector intrinsic and then splits into one libm call per lane."""
    def setup():
        import math
        from numba import njit
        f = getattr(math, name)

        @njit(error_model="numpy")
        def loop(a, o, n):
            for i in range(n):
                o[i] = np.float32(f(a[i]))
        a, o = _input(name), np.empty(N, np.float32)
        return lambda: (loop(a, o, N), _Sum(o))[1]
    return setup


def _case(name):
    return TargetCase(
        name=f"{name}_1e5",
        description=f"y = {name}(x), x: 100,000 float32 values",
        baseline="numpy",
        variants=[Variant("numpy", _numpy(name)), Variant("stepjit compile", _compiled(name)),
                  Variant("stepjit kernel", _kernel(name)),
                  Variant("math.* loop", _scalar_loop(name))],
        targets={"stepjit compile": 1.5, "stepjit kernel": 1.5},
        rtol=1e-5, reps=300, inner=10)


def _erf_case():
    """NumPy has no erf: the baseline is the libm loop (`math.erf` per element), which the
    generated loop was before verf."""
    return TargetCase(
        name="erf_1e5", description="y = erf(x), x: 100,000 float32 values (GELU's erf)",
        baseline="math.* loop",
        variants=[Variant("math.* loop", _scalar_loop("erf")),
                  Variant("stepjit compile", _compiled("erf")),
                  Variant("stepjit kernel", _kernel("erf"))],
        rtol=1e-5, reps=300, inner=10)


CASES = [_case(name) for name in ("tanh", "exp", "log")] + [_erf_case()]
