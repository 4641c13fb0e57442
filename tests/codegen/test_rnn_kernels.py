"""An RNN over sequences of varying length: one trace per length (the loop is unrolled).
The per-time-step kernels are shared across lengths (kernels are keyed by their code, not by
the IR names in their comments). What is not shared yet: the loop that sums a weight's
gradient over all time steps has one input per step, so each new length compiles that one
kernel (see the issue notes: a length-generic accumulation is the fix)."""
import numpy as np

import stepjit as torch
from stepjit.codegen import kernels


def test_new_sequence_length_compiles_no_kernel():
    torch.manual_seed(0)
    wx = torch.randn(3, 5, requires_grad=True)
    wh = torch.randn(5, 5, requires_grad=True)
    opt = torch.optim.SGD([wx, wh], lr=0.01)
    for p in (wx, wh):
        p.grad = torch.zeros_like(p)

    def step(xs, target):
        opt.zero_grad(set_to_none=False)
        h = torch.zeros(2, 5)
        for t in range(xs.shape[0]):
            h = (xs[t] @ wx + h @ wh).tanh()
        loss = ((h - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    compiled = torch.compile(step)
    target = torch.randn(2, 5)
    compiled(torch.randn(3, 2, 3), target)
    compiled(torch.randn(3, 2, 3), target)
    compiled(torch.randn(4, 2, 3), target)          # the first length only fills any gaps
    for n in (5, 6, 3, 7):
        before = kernels.STATS["compiled"] + kernels.STATS["loaded"]
        got = compiled(torch.randn(n, 2, 3), target).item()
        assert np.isfinite(got)
        assert kernels.STATS["compiled"] + kernels.STATS["loaded"] - before <= (0 if n == 3 else 1)
    assert compiled.stats()["traces"] >= 5
