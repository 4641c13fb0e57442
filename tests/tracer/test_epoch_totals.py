"""Totals a trainer keeps on an object and resets each epoch, then accumulates tensors into:
`self.total = 0.` and `self.parts = [0.] * n` (a new list) at the start of an epoch, `total +=
loss * bn` and `parts[i] += metric * bn` in the step. The first call of an epoch turns each number
into a tensor the step made (an attribute, sources.py; a list item, rebound through the list's
attribute, attr_lists.py); the later calls add to those tensors in place, read through their
attribute and item on every call rather than held by identity. So the epochs after the first
replay the same traces (was: traces per epoch, the recompile limit, then eager), and every total
equals eager's after every call (float64, interpret backend: bit for bit)."""
import numpy as np

import stepjit as torch

EPOCHS, CALLS = 5, 4


class Totals:
    def reset(self):
        self.total, self.count = 0., 0
        self.parts = [0.] * 2


def _loop(compiled):
    torch.manual_seed(2)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(CALLS, 5, 3, dtype=torch.float64)
    totals = Totals()

    def step(x):
        loss = (x @ w).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
            n = x.shape[0]
            totals.total += loss * n
            totals.count += n
            totals.parts[0] += (x @ w).abs().mean() * n
            totals.parts[1] += (x @ w).max() * n
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    seen = []
    for _ in range(EPOCHS):
        totals.reset()
        for i in range(CALLS):
            loss = f(xs[i])
            seen.append((loss.item(), float(totals.total), totals.count,
                         [float(p) for p in totals.parts], w.detach().numpy().copy()))
    return seen, f


def test_totals_reset_each_epoch_replay_the_first_epochs_traces():
    want, _ = _loop(False)
    got, f = _loop(True)
    for g, x in zip(got, want):
        assert g[:4] == x[:4] and (g[4] == x[4]).all()
    st = f.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    # first calls of an epoch and the others, and once more when the counters became numbers
    # read per call: not a trace per epoch
    assert st["traces"] <= 4, st
    assert all(s.slot[0] != "obj" or s.slot[1].requires_grad for s in f.traces[-1].slots)
