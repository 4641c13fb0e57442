"""A compiled step that adds a loss which requires grad into a tensor accumulator living
outside it (`epoch_loss += loss`, the habit of many course notebooks: the sum is a tensor
with history, reset to 0 before each epoch and divided by the batch count after it).

The in-place add records a backward, so the old value of the accumulator is saved for it;
that saved value must come from the accumulator as it is on each call, not as it was when
the step was traced. Each case runs the same batches eagerly and compiled and compares the
accumulator after every call (float32, so equal to a few ulps)."""
import numpy as np
import pytest

import stepjit as torch

BATCHES, EPOCHS, N, D = 3, 2, 6, 3


def _batches():
    g = np.random.default_rng(7)
    return [(torch.tensor(g.standard_normal((N, D)), dtype=torch.float32),
             torch.tensor(g.standard_normal((N, 1)), dtype=torch.float32))
            for _ in range(BATCHES)]


def _model():
    torch.manual_seed(3)
    net = torch.nn.Linear(D, 1)
    return net, torch.optim.SGD(net.parameters(), lr=0.05)


def _global_sum(compiled, backend):
    """The accumulator is a module global, an int at each epoch's start."""
    net, opt = _model()
    env = {"net": net, "opt": opt, "F": torch.nn.functional}
    exec("def step(x, y):\n"
         "    global total\n"
         "    loss = F.mse_loss(net(x), y)\n"
         "    total += loss\n"
         "    opt.zero_grad()\n"
         "    loss.backward()\n"
         "    opt.step()\n", env)
    step = torch.compile(env["step"], backend=backend) if compiled else env["step"]
    seen = []
    for _ in range(EPOCHS):
        env["total"] = 0
        for x, y in _batches():
            step(x, y)
            seen.append(float(env["total"]))
    return seen


def _closure_sum(compiled, backend):
    """The accumulator is a closure cell holding a 0-d tensor made outside the step, weighted
    by the batch size as a per-sample average needs."""
    net, opt = _model()
    running = torch.zeros(())

    def step(x, y):
        nonlocal running
        loss = ((net(x) - y) ** 2).mean()
        running += loss * x.shape[0]
        opt.zero_grad()
        loss.backward()
        opt.step()

    fn = torch.compile(step, backend=backend) if compiled else step
    seen = []
    for _ in range(EPOCHS):
        running = torch.zeros(())
        for x, y in _batches():
            fn(x, y)
            seen.append(running.item())
    return seen


@pytest.mark.parametrize("program", [_global_sum, _closure_sum])
def test_compiled_accumulator_follows_every_call(program):
    eager = program(False, None)
    compiled = program(True, "interpret")
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)


def test_compiled_accumulator_on_the_cpu_backend():
    np.testing.assert_allclose(_global_sum(True, "cpu"), _global_sum(False, None), rtol=1e-6)
