"""Every whole program: eager vs compiled, on every backend, step by step (see harness.py).

The interpret backend runs every program (bitwise), and so does the cpu backend (to a
tolerance): about 90 s with a cold kernel cache on 2 cores, seconds with a warm one. The
cuda backend runs every program too, eagerly on the device and compiled, at small sizes, in
the child process of tests/cuda/test_cuda.py (under Numba's simulator where there is no GPU;
see harness.py): about 2 minutes. `STEPJIT_REGRESSION=quick` runs only a representative
subset on cpu and cuda.
"""
import os

import pytest

from .harness import BACKENDS, run_eager_and_compiled
from .programs import PROGRAMS

FULL = os.environ.get("STEPJIT_REGRESSION") != "quick"
CPU_DEFAULT = {"two_layer_custom_relu", "logistic_regression_data", "dropout_functional_and_noise",
               "shuffled_minibatches", "data_dependent_branch", "two_losses_retain_graph"}
CASES = [(name, backend) for backend in BACKENDS for name in sorted(PROGRAMS)
         if FULL or backend == "interpret" or name in CPU_DEFAULT]


@pytest.mark.parametrize("name,backend", CASES, ids=[f"{n}-{b}" for n, b in CASES])
def test_program_matches_eager(name, backend):
    compiled, prog = run_eager_and_compiled(PROGRAMS[name], backend)
    assert sum(fn.stats()["calls"] for fn in compiled) == prog.steps


def test_there_are_enough_programs():
    assert len(PROGRAMS) >= 15
    assert CPU_DEFAULT <= set(PROGRAMS)
