"""A parallel flat loop (codegen/loops.py: rank >= 2, every array C-contiguous, prange over
1-D views made by pointers.c_view) stores what it computes.

Numba's parfor pass removes a prange loop's stores into an array it takes for a fresh one
that nothing reads after the loop; c_view's result is such an array unless pointers.py
registers it as a view of its argument. Without that, every store was dropped: outputs
came back uninitialized and in-place updates left the parameter unchanged (an Adam step of a
2^20-element Linear weight, tests/regression/test_large_optimizer_step.py). Here the same
loops run at a few elements, with the thread threshold lowered so they are parallel."""
import numpy as np
import pytest
from numba import njit, prange

import stepjit as torch
from stepjit.codegen import loops
from stepjit.codegen.pointers import c_view


@njit(parallel=True)
def _scale_into(a, b, n0, n1):
    n = n0 * n1
    af, bf = c_view(a, (n,)), c_view(b, (n,))
    for i in prange(n):
        af[i] = af[i] * np.float32(0.5) + bf[i]


def test_prange_stores_through_c_view_reach_the_array():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.full((3, 4), 100, np.float32)
    want = a * np.float32(0.5) + b
    _scale_into(a, b, 3, 4)
    np.testing.assert_array_equal(a, want)


@pytest.fixture
def parallel_everywhere(monkeypatch):
    """Every loop kernel gets prange (the pipeline reads the threshold when it builds them)."""
    monkeypatch.setattr(loops, "PARALLEL_MIN", 1)


def test_parallel_flat_loop_outputs_and_in_place_update_match_numpy(parallel_everywhere):
    rng = np.random.default_rng(0)
    x0, g0 = rng.standard_normal((2, 6, 5)).astype(np.float32)
    w = torch.tensor(x0.copy())
    g = torch.tensor(g0)

    def step(g):
        out = (w * g).relu() + 1.0          # a fresh output of a flat loop
        w.mul_(0.9).add_(g * g, alpha=0.1)  # computed into w's own buffer
        return out

    fn = torch.compile(step)
    want_w = x0.copy()
    for _ in range(3):
        got = fn(g).numpy()
        np.testing.assert_allclose(got, np.maximum(want_w * g0, 0) + 1.0, rtol=1e-6)
        want_w = want_w * np.float32(0.9) + np.float32(0.1) * (g0 * g0)
        np.testing.assert_allclose(w.numpy(), want_w, rtol=1e-6)
    srcs = [s for _, prog in fn.programs.values() for s in prog.kernel_sources()]
    assert any("prange(n)" in s and "c_view" in s for s in srcs)
