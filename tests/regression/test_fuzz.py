"""Differential fuzzing: random training programs, eager vs compiled vs the IR interpreter.

Programs come from fuzz_programs.programs() (hypothesis). Each is run eagerly and compiled
for `spec.steps` calls (harness.run_eager_and_compiled), comparing losses, weights, `.grad`
and optimizer effects: bitwise on the interpret backend (the IR interpreter), to a tolerance
on the cpu backend (generated code), and on cuda eagerly and compiled on the device against
the eager CPU run. A failure prints the shrunk program as Python and its traced IR.

Reproducible: examples are derandomized (the same every run) unless STEPJIT_FUZZ_SEED is
set, in which case that seed drives hypothesis and is printed. STEPJIT_FUZZ_EXAMPLES
overrides the example counts (default 300 on interpret). The cpu fuzzer runs 6 examples
without shrinking (its kernels take seconds each to compile in a cold process, and shrinking
through Numba compiles takes minutes); STEPJIT_FUZZ_CPU=0 skips it. It found a wrong W
after the second call of this program on cpu, an in-place update racing a view of the old
value, now fixed and kept as tests/codegen/test_inplace_aliasing.py:
Spec(2, 1, (("rows", 0, (1, 1)), ("matmul", 2), ("binary", "where_gt", 3, 2)), (4, 6, 7), "sgd").

The cuda fuzzer runs in the child process of tests/cuda/test_cuda.py (under Numba's CUDA
simulator where there is no GPU): CUDA_EXAMPLES examples from seed CUDA_SEED (printed;
STEPJIT_FUZZ_SEED overrides it), without shrinking.
"""
import gc
import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from .fuzz_programs import build, describe, programs  # noqa: E402
from .harness import CUDA_CHILD, Program, run_eager_and_compiled  # noqa: E402

SEED = os.environ.get("STEPJIT_FUZZ_SEED")
N = os.environ.get("STEPJIT_FUZZ_EXAMPLES")
CUDA_SEED = int(SEED) if SEED is not None else 20260
CUDA_EXAMPLES = 6


def _settings(default_examples, **kw):
    return settings(max_examples=int(N) if N else default_examples, deadline=None, **kw,
                    derandomize=SEED is None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seeded(test):
    if SEED is not None:
        print(f"stepjit fuzz: STEPJIT_FUZZ_SEED={SEED}")
        return seed(int(SEED))(test)
    return test


@pytest.fixture(autouse=True)
def _frozen_heap():
    """The tracer runs gc.collect() once per trace (to find state that escaped the step); in a
    process holding hypothesis and Numba that costs ~70 ms. Freezing the objects that exist
    before the test keeps each collection to what the example itself made."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def check(spec, backend):
    def make(device="cpu", small=False):      # fuzz programs are small already
        return Program(*build(spec, device), steps=spec.steps)
    try:
        run_eager_and_compiled(make, backend)
    except Exception as e:
        raise AssertionError(f"{type(e).__name__}: {e}\n--- program ---\n{describe(spec)}") from None


@_seeded
@_settings(300)
@given(programs())
def test_fuzz_interpret_matches_eager_bitwise(spec):
    check(spec, "interpret")


@pytest.mark.skipif(os.environ.get("STEPJIT_FUZZ_CPU") == "0",
                    reason="STEPJIT_FUZZ_CPU=0 (Numba compiles are slow in a cold process)")
@_seeded
@_settings(6, phases=(Phase.explicit, Phase.generate))
@given(programs(max_ops=5))
def test_fuzz_cpu_matches_eager(spec):
    check(spec, "cpu")


@pytest.mark.skipif(not CUDA_CHILD, reason="runs in the CUDA child process of tests/cuda/test_cuda.py")
@seed(CUDA_SEED)
@_settings(CUDA_EXAMPLES, phases=(Phase.explicit, Phase.generate))
@given(programs(max_ops=5))
def test_fuzz_cuda_matches_eager(spec):
    print(f"stepjit fuzz (cuda): seed {CUDA_SEED}: {spec}")
    check(spec, "cuda")
