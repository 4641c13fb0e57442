"""A step that reads a float exactly on some calls only, chosen by an int argument
(`if i % 4 == 1: log.append(round(loss.item(), 6))`), settles in its trace tree: the calls
that do not read it replay, those that do run eagerly (runtime/compiled.py,
_changes_when_reached), and the int's condition is checked before the float's decision
(symbolic.segment_now). It used to flip between per-call mode and the tree at every probe
(reading on 1 call of 4, it ran 188 of 200 calls eagerly), or, the condition the other way
round, grow a branch per value up to the recompile limit."""
import warnings

import numpy as np
import pytest

import stepjit as torch


def _run(compiled, reads_when, calls=48):
    torch.manual_seed(0)
    w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    x = torch.randn(16, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=0.05)
    log = []

    def step(i):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        if i % 4 == reads_when:
            log.append(round(loss.item(), 9))    # the exact float, read into Python
        return loss

    f = torch.compile(step, backend="interpret") if compiled else step
    modes, losses = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")    # no recompile-limit warning
        for i in range(calls):
            losses.append(f(i).item())
            modes.append(getattr(f, "mode", None))
    return f, modes, losses, log, w.detach().numpy().copy()


@pytest.mark.parametrize("reads_when", [0, 1])
def test_a_float_read_on_some_calls_settles_in_the_tree(reads_when):
    _, _, e_losses, e_log, e_w = _run(False, reads_when)
    f, modes, losses, log, w = _run(True, reads_when)
    assert losses == e_losses and log == e_log and np.array_equal(w, e_w)
    assert set(modes) == {"tree"}, modes
    stats = f.stats()
    reads = len(log)
    assert stats["traces"] <= 4 and stats["fallbacks"] == 0, stats
    # the calls that read the float ran eagerly (but the first few: traced), no other did
    assert reads - 3 <= stats["eager_calls"] <= reads, stats
