"""A loop kernel over a large group whose loops cannot run on threads (a sum over the leading
dim: every outer iteration adds into the same accumulator row, so no prange is emitted) is a
serial kernel. Marked parallel, Numba compiled it with parallel=True and printed "The keyword
argument 'parallel=True' was specified but no transformation for parallel execution was
possible" with the generated file's name in the middle of a training log (a GPT's bias
gradients summed over batch and time). The threshold for threads is lowered so that the
kernels are small."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import loops


@pytest.fixture
def parallel_everywhere(monkeypatch):
    monkeypatch.setattr(loops, "PARALLEL_MIN", 1)


def test_leading_dim_sum_kernel_is_serial_and_quiet(parallel_everywhere):
    x0 = np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32)
    x = torch.tensor(x0)

    def step(x):
        return (x * 2.0).sum(0)

    fn = torch.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fn(x).numpy()
    np.testing.assert_allclose(got, (x0 * 2.0).sum(0), rtol=1e-6)
    assert not [w for w in caught if "parallel" in str(w.message)]
    srcs = [s for _, prog in fn.programs.values() for s in prog.kernel_sources()]
    assert srcs
    for s in srcs:
        assert ("parallel=True" in s) == ("prange(" in s), s
