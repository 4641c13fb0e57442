"""A trainer's loop body as a step, with the bookkeeping real loops keep across epochs.

pytorch/examples' imagenet loop keeps an `AverageMeter` made afresh each epoch
(`losses.update(loss.item(), n)`), minGPT's trainer binds the loss to an attribute
(`self.loss = ...`, then `self.loss.backward()`) and counts `self.iter_num += 1`; a loss is
kept for a log line every 2000 calls. A two-layer MLP (64-128-10, ReLU, batch 32),
cross_entropy, SGD with momentum; epochs of 1000 calls (MNIST at batch 64 has 938).
Compiled, the step is traced once per epoch (the new meter) and replayed otherwise
(tracer/values.py path_guards, runtime/compiled.py _renewed, tracer/sources.py); before, the
`self.loss` binding made every trace describe one call, and the recompile limit then ran it
eagerly. Baseline: the same step in stepjit eager.
"""
import numpy as np

from ..harness import Case
from ._examples import eager_compiled_torch, framework

BATCH, FEATURES, HIDDEN, CLASSES, N_BATCHES = 32, 64, 128, 10, 128
EPOCH, LOG_EVERY = 1000, 2000     # calls


class AverageMeter:
    def __init__(self):
        self.val = self.sum = self.avg = 0.0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def _data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N_BATCHES, BATCH, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, (N_BATCHES, BATCH)).astype(np.int64)
    return x, y


def _setup(name, compiled=False):
    def setup():
        fw = framework(name)
        fw.manual_seed(0)
        x, y = (fw.from_numpy(a.copy()) for a in _data())

        class Trainer:
            def __init__(self):
                self.model = fw.nn.Sequential(fw.nn.Linear(FEATURES, HIDDEN), fw.nn.ReLU(),
                                              fw.nn.Linear(HIDDEN, CLASSES))
                self.optimizer = fw.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
                self.loss, self.iter_num, self.last = None, 0, None

        trainer = Trainer()
        rng = np.random.default_rng(2)     # (the same weights for every framework)
        with fw.no_grad():
            for p in trainer.model.parameters():
                p.copy_(fw.from_numpy((0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
        losses = AverageMeter()
        it = 0

        def train_step(inputs, labels):
            out = trainer.model(inputs)
            trainer.loss = fw.nn.functional.cross_entropy(out, labels)
            trainer.optimizer.zero_grad()
            trainer.loss.backward()
            trainer.optimizer.step()
            trainer.iter_num += 1
            losses.update(trainer.loss.item(), inputs.size(0))
            if it % LOG_EVERY == 0:
                trainer.last = trainer.loss.detach().clone()      # (a log line's value)
            return trainer.loss
        run = fw.compile(train_step, backend="cpu") if compiled else train_step

        def call():
            nonlocal it, losses
            it += 1
            k = it % N_BATCHES
            if it % EPOCH == 0:
                losses = AverageMeter()     # a new epoch
            return run(x[k], y[k])
        return call
    return setup


CASE = Case(
    name="epoch_loop",
    description=f"trainer loop body: MLP {FEATURES}-{HIDDEN}-{CLASSES}, batch {BATCH}, SGD "
                f"momentum, AverageMeter per epoch of {EPOCH} calls, self.loss attribute, "
                f"self.iter_num, a value kept every {LOG_EVERY} calls; baseline: stepjit eager",
    baseline="stepjit eager",
    variants=eager_compiled_torch(_setup),
)
