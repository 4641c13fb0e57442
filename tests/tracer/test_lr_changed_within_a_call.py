"""A compiled function that runs several optimizer updates with the learning rate changed
between them (a compiled epoch or whole training loop: `opt.step(); sched.step()` per
iteration, or `group['lr'] *= 0.1` by hand): each update must use the rate the group holds
when it runs, as eagerly. The rate is a per-call input read when the call begins
(hyperparams.py), and before, every update of the call used that first number (a silent wrong
result: d2l's neural style transfer run as one compiled `train`, 1.6e-1 off eager)."""
import numpy as np
import pytest

import stepjit as torch


def _run(compiled, kind, backend, calls=5):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.tensor([1.0, -0.5, 0.25], dtype=torch.float64))
    opt = (torch.optim.Adam if kind == "adam" else torch.optim.SGD)([w], lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, 2, 0.5)

    def epoch(x):
        out = []
        for _ in range(3):
            opt.zero_grad()
            loss = ((w * x - 1) ** 2).sum()
            loss.backward()
            opt.step()
            if kind == "by hand":
                opt.param_groups[0]["lr"] *= 0.5
            else:
                sched.step()
            out.append(loss)
        return torch.stack(out)

    f = torch.compile(epoch, backend=backend) if compiled else epoch
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    losses = [f(x).tolist() for _ in range(calls)]
    return losses, w.tolist(), opt.param_groups[0]["lr"], f


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("kind", ["scheduler", "by hand", "adam"])
def test_each_update_uses_the_rate_the_group_holds_then(kind, backend):
    want = _run(False, kind, backend)
    got = _run(True, kind, backend)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    assert got[2] == want[2]
    st = got[3].stats()
    assert st["fallbacks"] == 0, st
