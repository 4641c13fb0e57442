"""Runs tests/cuda/sim in a child process: on the GPU when numba.cuda finds one, else under
Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1); skipped, with the reason, when neither works."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROBE = "from numba import cuda; print(int(cuda.is_available()))"


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
                           os.path.join(HERE, "sim")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    print(f"tests/cuda/sim on the {where}:\n{proc.stdout[-3000:]}")
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
