"""Runs the CUDA tests in a child process: on the GPU when numba.cuda finds one, else under
Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1); skipped, with the reason, when neither works.

The child runs tests/cuda/sim and the regression suite's cuda cases (tests/regression: every
whole program eagerly on the device and compiled with backend="cuda", the generator's
numbers, and a few fuzz examples), which exist only where STEPJIT_CUDA_CHILD=1."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROBE = "from numba import cuda; print(int(cuda.is_available()))"
CHILD_TESTS = [
    os.path.join(HERE, "sim"),
    "tests/regression/test_programs.py::test_program_matches_eager",
    "tests/regression/test_random.py::test_compiled_step_draws_the_eager_numbers_and_keeps_its_trace",
    "tests/regression/test_fuzz.py::test_fuzz_cuda_matches_eager",
]


def _probe(env):
    try:
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                             text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return out.stdout.strip() == "1", (out.stderr.strip().splitlines() or ["no device"])[-1]


def _child_env():
    env = dict(os.environ, STEPJIT_CUDA_CHILD="1")
    if env.get("NUMBA_ENABLE_CUDASIM") != "1":
        ok, _ = _probe(env)
        if ok:
            return env, "GPU"
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    ok, why = _probe(env)
    if not ok:
        pytest.skip(f"no CUDA GPU and Numba's CUDA simulator is not usable: {why}")
    return env, "simulator"


def test_cuda_suite():
    env, where = _child_env()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--durations=5", *CHILD_TESTS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    print(f"CUDA tests on the {where}:\n{proc.stdout[-3000:]}")
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
