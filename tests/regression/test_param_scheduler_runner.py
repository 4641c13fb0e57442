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

from .test_callback_runner import EPOCHS, Callback, _fit


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


@pytest.mark.parametrize("sched", [sched_lin, sched_cos], ids=["linear", "cosine"])
def test_annealed_runner_stays_compiled(sched):
    def scheduler():
        return [ParamScheduler("lr", sched(0.3, 0.05))]
    want, _ = _fit(False, "interpret", scheduler)
    got, step = _fit(True, "interpret", scheduler)
    assert len(got) == len(want) == EPOCHS * (5 + 2)
    for g, w in zip(got, want):     # (interpret backend: bit for bit)
        assert g[:5] == w[:5]     # loss, n_epochs, n_iter, train and valid stats
        for a, b in zip(g[5], w[5]):
            np.testing.assert_array_equal(a, b)
    st = step.stats()
    # (was: 10 traces, 2 fallbacks: the second epoch's validation calls ran eagerly)
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 12, st
