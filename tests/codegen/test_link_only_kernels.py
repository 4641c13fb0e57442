"""A native program's loop kernels, compiled while the program compiles in this process, are
never made machine code of their own (codegen/program_library.py: KernelCompiler,
LinkOnlyLibrary): the program links their optimized modules, Numba's cache keeps those as
bitcode, and a later process that compiles the program again links what it loads from there.
Each run matches eager."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen.program_library import LinkOnlyLibrary

STEP = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import stepjit as torch
    from stepjit.codegen import kernels
    from tests.codegen.test_program_helper import _make

    step, x, y, w = _make()     # a tanh loop over 40x40 elements: a kernel the program calls
    fn = torch.compile(step, backend="cpu") if sys.argv[1] == "compiled" else step
    losses = [fn(x, y).item() for _ in range(4)]
    out = {"losses": losses, "w": w.detach().numpy().tolist()}
    if sys.argv[1] == "compiled":
        program = fn.roots[-1].program.unwrapped()
        packed = program.native.packed
        packed = getattr(packed, "fn", packed)        # (a threads.Threaded wraps it)
        module = packed.checked.fn.py_func.__globals__
        loops = {k: v for k, v in module.items() if k.startswith("loop") and hasattr(v, "stats")}
        out["loops"] = {k: {"libraries": sorted(type(c.library).__name__
                                               for c in v.overloads.values()),
                            "cache_hits": len(v.stats.cache_hits)} for k, v in loops.items()}
        out["stats"] = dict(kernels.STATS)
    print(json.dumps(out))
""")


def _run(mode, cache):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), STEPJIT_NATIVE="1",
               STEPJIT_COMPILE_HELPER="0", PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", STEP, mode], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kernels_compiled_for_their_program_have_no_machine_code(tmp_path):
    eager = _run("eager", tmp_path)
    cold = _run("compiled", tmp_path)
    assert cold["loops"], "the program calls no loop kernel"
    for name, loop in cold["loops"].items():
        assert loop["libraries"] == [LinkOnlyLibrary.__name__], name
    # A later process compiling the program again (its entry gone) loads the kernels'
    # bitcode from Numba's cache and links it.
    for f in os.listdir(tmp_path / "kernels"):
        if f.endswith(".entry"):
            os.remove(tmp_path / "kernels" / f)
    again = _run("compiled", tmp_path)
    assert all(loop["cache_hits"] for loop in again["loops"].values()), again["loops"]
    for run in (cold, again):
        np.testing.assert_allclose(run["losses"], eager["losses"], rtol=1e-5)
        np.testing.assert_allclose(run["w"], eager["w"], rtol=1e-5, atol=1e-6)
