"""Loops big enough for threads (prange) compile and match eager, including 0-dim inputs
read inside the loop (Adam's bias corrections), which Numba's parallel lowering rejects
unless they are loaded before the loop."""
import numpy as np

import stepjit as torch
from stepjit.programs.cpu import PARALLEL_MIN


def _run(compiled):
    n = PARALLEL_MIN
    w = torch.tensor(np.linspace(-1, 1, n, dtype=np.float32), requires_grad=True)
    g = torch.tensor(np.linspace(0, 1, n, dtype=np.float32))
    opt = torch.optim.Adam([w], lr=1e-2)

    def step():
        opt.zero_grad()
        loss = (w * g).sum()
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step) if compiled else step
    losses = [fn().item() for _ in range(4)]
    return losses, w.detach().numpy()


def test_adam_over_a_parallel_loop_matches_eager():
    e_losses, e_w = _run(False)
    c_losses, c_w = _run(True)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-5, atol=1e-6)
