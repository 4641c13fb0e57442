"""A mutable default argument is state the step keeps between calls, as a closure cell is
(tracer/helpers.py, default_roots): a compiled step that counts its calls in `box={"i": 0}`
must not replay the count it saw when traced."""
import warnings

import numpy as np

import stepjit as torch


def _run(compiled, calls=12):
    torch.manual_seed(0)
    w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    x, y = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=0.01)
    seen = []

    def step(box={"i": 0}, *, log=[]):     # noqa: B006 - the state under test
        box["i"] += 1
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        if box["i"] in (4, 9):
            loss = loss * 10.0
            log.append(box["i"])
            seen.append(round(loss.item(), 9))
        loss.backward()
        opt.step()
        return loss

    f = torch.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        losses = [float(f()) for _ in range(calls)]
    return losses, seen, step.__kwdefaults__["log"], w.detach().numpy().copy()


def test_a_counter_in_a_default_argument_is_read_on_every_call():
    e_losses, e_seen, e_log, e_w = _run(False)
    c_losses, c_seen, c_log, c_w = _run(True)
    assert e_log == [4, 9] and c_log == e_log and c_seen == e_seen
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-12)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-12)
