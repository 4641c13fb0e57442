"""A compiled step that sets the learning rate itself before updating (`for g in
opt.param_groups: g["lr"] = lr` ahead of `opt.step()`: warmup and cosine schedules written
into the training loop, as in the LLM book's appendix D) must update with the lr it just set.

The lr is read as a per-call input when a call begins; a number the step changed while traced
was put back for the call's program, so every call updated with the lr of the call before
(the first with the constructor's), silently. Each case compares the compiled step with the
same step run eagerly and with the closed-form SGD result."""
import math

import numpy as np
import pytest

import stepjit as torch

LRS = [0.1, 0.2, 0.3, 0.4]


def _run(compiled, lr_from):
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=1.0)
    state = {"k": 0}

    def step(x, lr_arg):
        lr = lr_arg if lr_from == "argument" else LRS[state["k"]]
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = (w * x).sum()
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step, backend="interpret") if compiled else step
    seen = []
    for k, lr in enumerate(LRS):
        state["k"] = k
        fn(torch.ones(3), lr)
        seen.append(w.detach().numpy().copy())
    return seen


@pytest.mark.parametrize("lr_from", ["argument", "schedule"])
def test_update_uses_the_lr_the_step_just_set(lr_from):
    want = np.ones(3, np.float32) - np.cumsum(LRS)[:, None].astype(np.float32)
    eager = _run(False, lr_from)
    np.testing.assert_allclose(eager, want, rtol=1e-6, atol=1e-6)
    with pytest.warns(UserWarning, match="set by the step before its update read it"):
        compiled = _run(True, lr_from)
    np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-6)


def test_warmup_then_cosine_schedule_in_the_loop_body():
    """Linear warmup from a global step counter, then cosine decay, with AdamW."""
    def run(compiled):
        torch.manual_seed(0)
        net = torch.nn.Linear(3, 1)
        opt = torch.optim.AdamW(net.parameters(), weight_decay=0.1)
        g = np.random.default_rng(1)
        xs = [torch.tensor(g.standard_normal((4, 3)), dtype=torch.float32) for _ in range(6)]
        state = {"step": -1}

        def step(x):
            state["step"] += 1
            s = state["step"]
            lr = 1e-3 + s * 0.01 if s < 3 else 1e-3 + 0.015 * (1 + math.cos(math.pi * (s - 3) / 3))
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            loss = (net(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = torch.compile(step, backend="interpret") if compiled else step
        return [float(fn(x)) for x in xs], net.weight.detach().numpy().copy()

    want_losses, want_w = run(False)
    with pytest.warns(UserWarning):
        got_losses, got_w = run(True)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-6)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-6, atol=1e-7)
