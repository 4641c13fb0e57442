"""The transcendental cases' `stepjit kernel` variant (README's table, "generated loop alone")
times the compiled program's one loop kernel: it must find that kernel although a compiled
trace's first call is interpreted and a hot one goes native, and compute what NumPy does."""
import numpy as np

from benchmarks.cases.math_loops import _kernel, _numpy


def test_the_kernel_variant_finds_its_loop_and_matches_numpy(monkeypatch):
    monkeypatch.delenv("STEPJIT_FIRST_CALL", raising=False)     # a benchmark run's default
    kernel, numpy = _kernel("tanh")(), _numpy("tanh")()
    got, want = kernel(), numpy()
    np.testing.assert_allclose(got.a, want.a, rtol=1e-5, atol=1e-6)
