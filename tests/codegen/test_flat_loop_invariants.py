"""A flat loop (every varying array C-contiguous) beside an input broadcast along every dim:
the (1, 1) factor is loaded once before the loops, never indexed by the flat counter (it
was read as `a0[i]`, which Numba refused to compile: det's gradient g * det * inv(A)^T)."""
import numpy as np

import stepjit


def test_flat_loop_reads_a_fully_broadcast_input_once():
    def step(a, c):
        d = (a * c).sum()
        return (d.unsqueeze(-1).unsqueeze(-1) * a.exp()).detach()

    a = stepjit.tensor(np.arange(9.0).reshape(3, 3) / 9)
    c = stepjit.tensor(0.7, dtype=stepjit.float64)
    compiled = stepjit.compile(step, backend="cpu")
    want = (a.numpy() * 0.7).sum() * np.exp(a.numpy())
    np.testing.assert_allclose(compiled(a, c).numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(step(a, c).numpy(), want, rtol=1e-13)
