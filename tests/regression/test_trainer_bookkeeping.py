"""A whole training loop with the bookkeeping real trainers keep, its body compiled as the step.

What pytorch/examples' imagenet loop, minGPT's trainer and the course notebooks do around the
step: an `AverageMeter` made afresh each epoch and updated from `loss.item()`, the loss bound to
an attribute of the trainer (`self.loss = ...; self.loss.backward()`), `self.iter_num += 1`, a
log line printed every 70 iterations, and a per-epoch
summary read by the loop between calls. Run eagerly and compiled: every loss, every meter, the
printed text equal after every call, and the compiled step replays
its traces (one trace per epoch and per printing call, no eager fallback, no per-call mode)."""
import contextlib
import io

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn

EPOCHS, BATCHES, LOG_EVERY = 6, 40, 70


class AverageMeter:
    def __init__(self, name):
        self.name = name
        self.val = self.sum = self.avg = 0.0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


class Trainer:
    def __init__(self):
        torch.manual_seed(7)
        self.model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.loss = None
        self.iter_num = 0
        self.plots = []

    def fit(self, compiled, backend):
        rng = np.random.default_rng(5)
        xs = torch.from_numpy(rng.standard_normal((BATCHES, 8, 6)).astype(np.float32))
        ys = torch.from_numpy(rng.integers(0, 4, (BATCHES, 8)))
        losses = top1 = None
        x = y = None
        out = io.StringIO()
        seen, summaries = [], []

        def step():
            logits = self.model(x)
            self.loss = nn.functional.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            self.loss.backward()
            self.optimizer.step()
            losses.update(self.loss.item(), x.size(0))
            top1.update((logits.argmax(1) == y).sum().item() * 100.0 / x.size(0), x.size(0))
            self.iter_num += 1
            if self.iter_num % LOG_EVERY == 0:
                print(f"iter {self.iter_num}: loss {losses.avg:.4f} acc {top1.avg:.2f}")
                self.plots.append(logits.detach().clone())   # (kept: a log of tensors)

        f = torch.compile(step, backend=backend) if compiled else step
        for _ in range(EPOCHS):
            losses, top1 = AverageMeter("Loss"), AverageMeter("Acc@1")
            for i in range(BATCHES):
                x, y = xs[i], ys[i]
                with contextlib.redirect_stdout(out):
                    f()
                seen.append((self.loss.item(), losses.sum, losses.count, top1.sum,
                             self.iter_num, len(self.plots), out.getvalue()))
            summaries.append((losses.avg, top1.avg))
        return seen, summaries, self.plots, f


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_trainer_bookkeeping_matches_eager_and_stays_compiled(backend, monkeypatch):
    # (printing every 70 calls, a small step runs eagerly by default: a one-call trace costs
    # more than 70 replays save; the threshold is lowered to keep the test short)
    monkeypatch.setattr(torch.config.dynamo, "one_shot_gap", 64)
    want, want_sum, want_plots, _ = Trainer().fit(False, backend)
    got, got_sum, got_plots, f = Trainer().fit(True, backend)
    assert len(got) == len(want) == EPOCHS * BATCHES
    exact = backend == "interpret"
    for g, w in zip(got, want):
        assert g[2] == w[2] and g[4:6] == w[4:6]     # counts, iter_num, plots made
        if exact:
            assert g == w
        else:
            np.testing.assert_allclose(g[:4], w[:4], rtol=1e-5)
    if exact:
        assert got_sum == want_sum
    np.testing.assert_allclose(np.array(got_sum), np.array(want_sum), rtol=1e-5)
    assert len(got_plots) == len(want_plots) == EPOCHS * BATCHES // LOG_EVERY
    for a, b in zip(got_plots, want_plots):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0 if exact else 1e-5,
                                   atol=0 if exact else 1e-6)
    st = f.stats()
    assert st["mode"] == "tree" and st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    # a trace per epoch, one per printing call and a few to settle (the optimizer's state,
    # the meters read per call): the other calls replay
    assert st["traces"] <= EPOCHS + EPOCHS * BATCHES // LOG_EVERY + 4, st
