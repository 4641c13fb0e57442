"""A training step that keeps Python accumulators, as nearly every tutorial loop does.

The CIFAR-10 tutorial's loop made a step, with the bookkeeping of the others: a two-layer
MLP (64-128-10, ReLU, batch 32), cross_entropy, backward, SGD under no_grad, then
`running_loss += loss.item()` (printed and reset every 2000 steps), `correct +=
(out.argmax(1) == y).sum().item()`, `seen += len(y)`, `iters += 1` and makemore's
`lossi.append(loss.log10().item())`, the state held in the loop's closure. Compiled, the
graph computes those numbers and the runtime writes them back after each call
(tracer/results.py): the step is traced twice and replayed; before, the changed accumulators
made it run its Python on every call (eagerly, its ops being small). Baseline: the same step
in stepjit eager.
"""
import numpy as np

from ..harness import Case
from ._examples import eager_compiled_torch, framework

BATCH, FEATURES, HIDDEN, CLASSES, N_BATCHES = 32, 64, 128, 10, 16


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_BATCHES, BATCH, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, (N_BATCHES, BATCH)).astype(np.int64)
    w1 = (rng.standard_normal((FEATURES, HIDDEN)) / np.sqrt(FEATURES)).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(np.float32)
    return x, y, w1, np.zeros(HIDDEN, np.float32), w2, np.zeros(CLASSES, np.float32)


def _setup(name, compiled=False):
    def setup():
        fw = framework(name)
        F = fw.nn.functional
        x, y, *params = (fw.from_numpy(a.copy()) for a in _data())
        for p in params:
            p.requires_grad_()
        w1, b1, w2, b2 = params
        running_loss, correct, seen, iters, lossi = 0.0, 0, 0, 0, []

        def train_step(inputs, labels):
            nonlocal running_loss, correct, seen, iters
            out = F.relu(inputs @ w1 + b1) @ w2 + b2
            loss = F.cross_entropy(out, labels)
            loss.backward()
            with fw.no_grad():
                for p in params:
                    p -= 0.01 * p.grad
                    p.grad.zero_()
            running_loss += loss.item()
            correct += (out.argmax(1) == labels).sum().item()
            seen += len(labels)
            iters += 1
            lossi.append(loss.log10().item())
            if iters % 2000 == 1999:
                print(f"[{iters + 1:5d}] loss: {running_loss / 2000:.3f} "
                      f"acc: {100 * correct / seen:.1f}%")
                running_loss = 0.0
            return loss
        run = fw.compile(train_step, backend="cpu") if compiled else train_step
        k = 0

        def call():
            nonlocal k
            k = (k + 1) % N_BATCHES
            if len(lossi) > 4096:
                lossi.clear()     # (the script plots and drops it now and then)
            return run(x[k], y[k])
        return call
    return setup


CASE = Case(
    name="accumulators",
    description=f"CIFAR-10 tutorial loop as a step: MLP {FEATURES}-{HIDDEN}-{CLASSES}, batch "
                f"{BATCH}, cross_entropy + SGD, with running_loss/correct/seen/iters "
                "accumulators and lossi.append(loss.log10().item()); baseline: stepjit eager",
    baseline="stepjit eager",
    variants=eager_compiled_torch(_setup),
)
