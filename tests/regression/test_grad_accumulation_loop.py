"""Gradient accumulation as build-nanogpt writes it, the micro-step compiled: the loop sets
`loss_accum = 0.0` before each optimizer step, and each micro-step does `loss_accum +=
loss.detach()` (a float the first time, a tensor after) and `loss.backward()`. The name is
read per call as a number at the step's start, rebound to a fresh tensor after every call
(tracer/trace.py _inputs_back, tracer/sources.py); the loop then reads `loss_accum.item()`.
Before, the second call crashed: the call's program read the traced tensor the step had left
in the closure cell as its number input."""
import numpy as np
import pytest

import stepjit as torch

STEPS, MICRO = 5, 4


def _train(compiled, backend):
    torch.manual_seed(11)
    net = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.GELU(), torch.nn.Linear(12, 3))
    opt = torch.optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)
    xs, ys = torch.randn(MICRO, 5, 6), torch.randint(0, 3, (MICRO, 5))
    loss_accum = None
    seen = []

    def micro_step(i):
        nonlocal loss_accum
        logits = net(xs[i])
        loss = torch.nn.functional.cross_entropy(logits, ys[i]) / MICRO
        loss_accum += loss.detach()
        loss.backward()

    f = torch.compile(micro_step, backend=backend) if compiled else micro_step
    for _ in range(STEPS):
        opt.zero_grad()
        loss_accum = 0.0
        for i in range(MICRO):
            f(i)
            seen.append(loss_accum.item())       # after every call
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        seen.extend(p.detach().numpy().ravel().tolist() for p in net.parameters())
    return seen, f


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_loss_accum_over_micro_steps(backend):
    want, _ = _train(False, backend)
    got, f = _train(True, backend)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if backend == "interpret":
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    st = f.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree" and st["traces"] <= 4, st
