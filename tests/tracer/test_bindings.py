"""A step that reads a global or closure tensor must follow the name when the user rebinds it
between calls: the trace lifted the old tensor object, so a rebinding retraces (compared with
eager after many calls, when cached traces run through the fast call)."""
import numpy as np

import stepjit as torch

W = torch.tensor([1.0, 2.0, 3.0])


def _global_step(x):
    return (x * W).sum()


def test_rebinding_a_global_tensor_retraces():
    global W
    c = torch.compile(_global_step)
    x = torch.tensor([1.0, 1.0, 1.0])
    for i in range(20):                     # warm: the cached trace runs many times
        assert c(x).item() == _global_step(x).item()
    traces = c.stats()["traces"]
    W = torch.tensor([5.0, 2.0, 3.0])       # same shape and dtype: only identity tells
    try:
        for _ in range(20):
            assert c(x).item() == _global_step(x).item() == 10.0
    finally:
        W = torch.tensor([1.0, 2.0, 3.0])
    assert c.stats()["traces"] == traces + 1
    assert c(x).item() == 6.0


def test_rebinding_a_closure_tensor_retraces():
    v = torch.tensor([1.0, 2.0])

    def f(x):
        return (x * v).sum()

    c = torch.compile(f)
    x = torch.tensor([1.0, 1.0])
    for _ in range(10):
        c(x)
    v = torch.tensor([4.0, 2.0])
    assert [c(x).item() for _ in range(10)] == [6.0] * 10


def test_in_place_updates_of_the_same_global_do_not_retrace():
    w = torch.tensor(np.ones(3, np.float32), requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    c = torch.compile(step)
    x = torch.tensor([1.0, 2.0, 3.0])
    for _ in range(12):
        c(x)
    assert c.stats()["traces"] <= 3   # the first call (no .grad yet), the steady state, a re-verification
    np.testing.assert_allclose(w.detach().numpy(), 1 - 0.1 * 12 * np.array([1, 2, 3]), rtol=1e-5)
