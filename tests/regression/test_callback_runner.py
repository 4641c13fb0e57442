"""A callback-driven training loop whose batch method is compiled, written the way fastai's course
notebooks write their `Runner` (our own program, same patterns).

What the step reads and writes on `self` and on its callbacks: `one_batch` runs every callback by
name (`self('after_loss')`), a callback delegates attribute reads to the runner
(`__getattr__`), `self.n_epochs` is set to the epoch's int at its start and then grows by
`1. / self.iters` a batch (a float), the epoch number is set on the runner though the step never
reads it, the stats object resets `tot_loss` to `0.` and `tot_mets` to a new list `[0.]` each
epoch and then accumulates tensors into them, the last batch of each epoch is smaller, and the
validation calls run through the same method under `no_grad` with the model in eval mode (no
backward, no optimizer step). Run eagerly and compiled: every loss, parameter, counter and
accumulated stat equal after every call, a few traces, and no call run eagerly."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
from stepjit.nn import functional as F

EPOCHS, TRAIN, VALID, BS = 3, 70, 30, 16


class Callback:
    _order = 0

    def set_runner(self, run):
        self.run = run

    def __getattr__(self, k):
        return getattr(self.run, k)

    def __call__(self, name):
        f = getattr(self, name, None)
        return bool(f and f())


class TrainEval(Callback):
    def begin_fit(self):
        self.run.n_epochs = 0.
        self.run.n_iter = 0

    def after_batch(self):
        if not self.in_train:
            return
        self.run.n_epochs += 1. / self.iters
        self.run.n_iter += 1

    def begin_epoch(self):
        self.run.n_epochs = self.epoch
        self.model.train()
        self.run.in_train = True

    def begin_validate(self):
        self.model.eval()
        self.run.in_train = False


def accuracy(out, yb):
    return (torch.argmax(out, dim=1) == yb).float().mean()


class Stats:
    def __init__(self, metrics):
        self.metrics = metrics

    def reset(self):
        self.tot_loss, self.count = 0., 0
        self.tot_mets = [0.] * len(self.metrics)

    def accumulate(self, run):
        bn = run.xb.shape[0]
        self.tot_loss += run.loss * bn
        self.count += bn
        for i, m in enumerate(self.metrics):
            self.tot_mets[i] += m(run.pred, run.yb) * bn

    def summary(self):
        return [self.count, float(self.tot_loss)] + [float(m) for m in self.tot_mets]


class StatsCallback(Callback):
    def __init__(self, metrics):
        self.train_stats, self.valid_stats = Stats(metrics), Stats(metrics)

    def begin_epoch(self):
        self.train_stats.reset()
        self.valid_stats.reset()

    def after_loss(self):
        stats = self.train_stats if self.in_train else self.valid_stats
        with torch.no_grad():
            stats.accumulate(self.run)


class Runner:
    def __init__(self, cbs):
        self.in_train = False
        self.cbs = [TrainEval()] + cbs

    def one_batch(self, xb, yb):
        self.xb, self.yb = xb, yb
        self('begin_batch')
        self.pred = self.model(self.xb)
        self('after_pred')
        self.loss = self.loss_func(self.pred, self.yb)
        self('after_loss')
        if not self.in_train:
            self('after_batch')
            return
        self.loss.backward()
        self('after_backward')
        self.opt.step()
        self('after_step')
        self.opt.zero_grad()
        self('after_batch')

    def __call__(self, name):
        res = False
        for cb in sorted(self.cbs, key=lambda c: c._order):
            res = cb(name) and res
        return res

    def fit(self, epochs, model, opt, train_dl, valid_dl, step, record):
        self.epochs, self.model, self.opt, self.loss_func = epochs, model, opt, F.cross_entropy
        for cb in self.cbs:
            cb.set_runner(self)
        self('begin_fit')
        for epoch in range(epochs):
            self.epoch = epoch
            self('begin_epoch')
            self.iters = len(train_dl)
            for xb, yb in train_dl:
                step(xb, yb)
                record()
            with torch.no_grad():
                self('begin_validate')
                self.iters = len(valid_dl)
                for xb, yb in valid_dl:
                    step(xb, yb)
                    record()


def _batches(x, y):
    return [(x[i:i + BS], y[i:i + BS]) for i in range(0, len(x), BS)]


def _fit(compiled, backend, extra=list):
    """extra() -> more callbacks for the runner (test_param_scheduler_runner's scheduler)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = []
    for n in (TRAIN, VALID):
        x = torch.from_numpy(rng.standard_normal((n, 10)))
        data.append(_batches(x, torch.from_numpy(rng.integers(0, 3, n))))
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    stats = StatsCallback([accuracy])
    run = Runner([stats, *extra()])
    step = torch.compile(run.one_batch, backend=backend) if compiled else run.one_batch
    seen = []

    def record():
        seen.append((run.loss.item(), run.n_epochs, run.n_iter, stats.train_stats.summary(),
                     stats.valid_stats.summary(),
                     [p.detach().numpy().copy() for p in model.parameters()]))
    run.fit(EPOCHS, model, opt, *data, step, record)
    return seen, step


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_callback_runner_matches_eager_and_stays_compiled(backend):
    want, _ = _fit(False, backend)
    got, step = _fit(True, backend)
    assert len(got) == len(want) == EPOCHS * (5 + 2)
    rtol = 0 if backend == "interpret" else 1e-12
    for g, w in zip(got, want):
        assert g[1:3] == w[1:3] and type(g[1]) is type(w[1])     # n_epochs, n_iter
        np.testing.assert_allclose(g[0], w[0], rtol=rtol)
        np.testing.assert_allclose(g[3], w[3], rtol=rtol)
        np.testing.assert_allclose(g[4], w[4], rtol=rtol)
        for a, b in zip(g[5], w[5]):
            np.testing.assert_allclose(a, b, rtol=rtol)
    st = step.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 10, st
