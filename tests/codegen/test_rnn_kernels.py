"""An RNN over sequences of varying length: one trace per length (the loop is unrolled), but
no new kernel after the first length: per-time-step kernels are keyed by their code (not the
IR names in their comments), and the sum of a weight's gradient over all time steps is
lowered to a stack and a reduction whose kernel does not depend on the length."""
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
    eager_losses = []
    compiled(torch.randn(3, 2, 3), target)
    compiled(torch.randn(3, 2, 3), target)
    compiled(torch.randn(4, 2, 3), target)          # the first length only fills any gaps
    for n in (5, 6, 3, 7):
        before = kernels.STATS["compiled"] + kernels.STATS["loaded"]
        got = compiled(torch.randn(n, 2, 3), target).item()
        assert np.isfinite(got)
        assert kernels.STATS["compiled"] + kernels.STATS["loaded"] == before
    assert compiled.stats()["traces"] >= 5


def test_lowered_gradient_sum_matches_eager():
    def run(compiled):
        torch.manual_seed(1)
        wx = torch.randn(3, 4, requires_grad=True)
        wh = torch.randn(4, 4, requires_grad=True)

        def step(xs):
            h = torch.zeros(2, 4)
            for t in range(xs.shape[0]):
                h = (xs[t] @ wx + h @ wh).tanh()
            loss = h.pow(2).mean()
            loss.backward()
            with torch.no_grad():
                wx.sub_(0.1 * wx.grad)
                wh.sub_(0.1 * wh.grad)
                wx.grad.zero_()
                wh.grad.zero_()
            return loss
        fn = torch.compile(step) if compiled else step
        xs = torch.randn(6, 2, 3)
        return [fn(xs).item() for _ in range(3)], wx.detach().numpy(), wh.detach().numpy()

    (el, ewx, ewh), (cl, cwx, cwh) = run(False), run(True)
    np.testing.assert_allclose(cl, el, rtol=1e-5)
    np.testing.assert_allclose(cwx, ewx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cwh, ewh, rtol=1e-5, atol=1e-6)
