"""The callback-driven Runner of test_callback_runner with a parameter scheduler, the way fastai's
course notebooks anneal the learning rate (our own program, same patterns): before every training
batch a callback sets each param group's lr to `sched(self.n_epochs / self.epochs)`, a linear or a
cosine annealer made with functools.partial, reading the runner's counters through `__getattr__`.

The runner sets `self.epoch` at each epoch's start; the batch step never reads it, but the words
of a callback's `begin_epoch` name it, so the first epoch's traces guard it. Its change at the
second epoch makes it read per call (symbolic.py), and the first epoch's other roots (the last
smaller batch, the validation batches) are traced once more: those retraces were counted by the
recompile limit, so the second epoch's validation ran eagerly (10 traces and 2 of 21 calls eager).
They are not counted now, as a new shape is not: no eager call. Every loss, parameter, lr and
counter equals eager's after every call."""
import math
from functools import partial

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn

from .test_callback_runner import EPOCHS, TRAIN, VALID, Callback, Runner, StatsCallback, \
    _batches, accuracy


def annealer(f):
    def make(start, end):
        return partial(f, start, end)
    return make


@annealer
def sched_lin(start, end, pos):
    return start + pos * (end - start)


@annealer
def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


class ParamScheduler(Callback):
    _order = 1

    def __init__(self, pname, sched):
        self.pname, self.sched = pname, sched

    def set_param(self):
        for pg in self.opt.param_groups:
            pg[self.pname] = self.sched(self.n_epochs / self.epochs)

    def begin_batch(self):
        if self.in_train:
            self.set_param()


def _fit(compiled, sched):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = []
    for n in (TRAIN, VALID):
        x = torch.from_numpy(rng.standard_normal((n, 10)))
        data.append(_batches(x, torch.from_numpy(rng.integers(0, 3, n))))
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    stats = StatsCallback([accuracy])
    run = Runner([stats, ParamScheduler("lr", sched(0.3, 0.05))])
    step = torch.compile(run.one_batch, backend="interpret") if compiled else run.one_batch
    seen = []

    def record():
        seen.append((run.loss.item(), run.n_epochs, opt.param_groups[0]["lr"],
                     stats.train_stats.summary(),
                     [p.detach().numpy().copy() for p in model.parameters()]))
    run.fit(EPOCHS, model, opt, *data, step, record)
    return seen, step


@pytest.mark.parametrize("sched", [sched_lin, sched_cos], ids=["linear", "cosine"])
def test_annealed_runner_stays_compiled(sched):
    want, _ = _fit(False, sched)
    got, step = _fit(True, sched)
    assert len(got) == len(want) == EPOCHS * (5 + 2)
    for g, w in zip(got, want):
        assert g[1] == w[1]     # n_epochs
        np.testing.assert_allclose(g[2], w[2], rtol=1e-15)     # the lr the schedule set
        np.testing.assert_allclose(g[0], w[0], rtol=1e-12)
        np.testing.assert_allclose(g[3], w[3], rtol=1e-12)
        for a, b in zip(g[4], w[4]):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    st = step.stats()
    # (was: 10 traces, 2 fallbacks: the second epoch's validation calls ran eagerly)
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 12, st
