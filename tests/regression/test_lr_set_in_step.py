"""A compiled step that sets the learning rate itself before updating (`for g in
opt.param_groups: g["lr"] = lr` ahead of `opt.step()`: warmup and cosine schedules written
into the training loop, as in the LLM book's appendix D and nanoGPT's `get_lr`) must update
with the lr it just set, on every call, and replay rather than run its Python per call.

The lr is read as a per-call input when a call begins, so the call must begin with the number
the step sets (a constant set each call: guarded, one trace), or the graph must compute it
(a schedule of a loop counter: the counter is read per call and `math.cos` of it is a graph
node). Each case compares the compiled step with the same step run eagerly after every call,
weights and the lr left in the group."""
import math

import numpy as np
import pytest

import stepjit as torch

N = 10
LRS = [0.01 * (k % 4 + 1) for k in range(N)]
DECAYING = [0.05 * 0.9 ** k for k in range(N)]     # a new lr every call, passed in
WARMUP, DECAY, MAX_LR, MIN_LR = 3, 9, 0.05, 0.005


def cosine_lr(it):
    """nanoGPT's shape: linear warmup, cosine decay to MIN_LR, then MIN_LR."""
    if it < WARMUP:
        return MAX_LR * (it + 1) / WARMUP
    if it > DECAY:
        return MIN_LR
    ratio = (it - WARMUP) / (DECAY - WARMUP)
    assert 0 <= ratio <= 1
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (MAX_LR - MIN_LR)


def _lr(kind, k, arg):
    if kind == "argument":
        return arg
    if kind == "constant":
        return 0.003
    if kind == "list":
        return LRS[k]
    return cosine_lr(k)


def _run(compiled, kind, opt_name="SGD", backend="interpret"):
    """Per call: (weights, the group's lr); and the compiled function (or None)."""
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = getattr(torch.optim, opt_name)(net.parameters(), lr=1.0)
    state = {"k": 0}
    xs = [torch.tensor(np.random.default_rng(k).standard_normal((4, 3)), dtype=torch.float32)
          for k in range(N)]

    def step(x, lr_arg):
        lr = _lr(kind, state["k"], lr_arg)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = (net(x) ** 2).mean()
        loss.backward()
        opt.step()
        state["k"] += 1
        return loss

    fn = torch.compile(step, backend=backend) if compiled else step
    seen = []
    for k, x in enumerate(xs):
        fn(x, DECAYING[k] if kind == "argument" else 0.0)
        seen.append((net.weight.detach().numpy().copy(), opt.param_groups[0]["lr"]))
    return seen, fn if compiled else None


def _compare(kind, opt_name, backend="interpret"):
    eager, _ = _run(False, kind, opt_name)
    compiled, fn = _run(True, kind, opt_name, backend)
    for k, ((we, lre), (wc, lrc)) in enumerate(zip(eager, compiled)):
        assert lrc == pytest.approx(lre, rel=1e-15), f"call {k}: lr {lrc} != eager's {lre}"
        np.testing.assert_allclose(wc, we, rtol=1e-6, atol=1e-7, err_msg=f"call {k}")
    return fn.stats()


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])
def test_warmup_then_cosine_replays_with_each_calls_lr(opt_name):
    stats = _compare("cosine", opt_name)
    # first call, the counter read per call, warmup branch, decay branch: no per-call Python
    assert stats["mode"] == "tree" and stats["traces"] <= 4 and stats["eager_calls"] == 0, stats


def test_a_constant_set_each_call_replays():
    stats = _compare("constant", "SGD")
    assert stats["mode"] == "tree" and stats["traces"] <= 2, stats


def test_an_lr_read_from_a_list_is_right_at_every_call():
    """A list indexed by the counter (list indexing asks for the exact int) is per-value:
    one trace per lr, each call's own."""
    _compare("list", "SGD")


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])
def test_an_lr_passed_as_an_argument_replays(opt_name):
    """`step(x, lr)` with a new lr every call: from its first change the float argument is
    a per-call input (torch.compile makes a float argument dynamic at its first recompile),
    not one trace per value, which would run eagerly past the recompile limit."""
    stats = _compare("argument", opt_name)
    assert stats["mode"] == "tree" and stats["traces"] <= 4, stats    # (the group's old lr: one more)
    assert stats["fallbacks"] == 0 and stats["eager_calls"] == 0, stats

