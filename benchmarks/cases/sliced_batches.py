"""A loop over batches sliced from one tensor by the loop variable (tracer/windows.py).

The official nn_tutorial's loop, made a step: `xb = x_train[i * bs:i * bs + bs]` with `i` a
closure variable the loop advances before every call (32 batches of 64 rows of 128 features,
cycled), a linear layer, cross_entropy, backward, SGD under no_grad. Compiled, the slice's
start is read per call (one trace for every batch); before, every batch was a trace and the
step ran eagerly after the eighth. Baseline: the same step in stepjit eager.
"""
import numpy as np

from ..harness import Case
from ._examples import eager_compiled_torch, framework

ROWS, FEATURES, CLASSES, BS = 2048, 128, 10, 64
N_BATCHES = ROWS // BS


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, ROWS).astype(np.int64)
    w = (rng.standard_normal((FEATURES, CLASSES)) / np.sqrt(FEATURES)).astype(np.float32)
    return x, y, w, np.zeros(CLASSES, np.float32)


def _setup(name, compiled=False):
    def setup():
        fw = framework(name)
        F = fw.nn.functional
        x_train, y_train, w, b = (fw.from_numpy(a.copy()) for a in _data())
        w.requires_grad_()
        b.requires_grad_()
        i = 0

        def step():
            xb = x_train[i * BS:i * BS + BS]
            yb = y_train[i * BS:i * BS + BS]
            loss = F.cross_entropy(xb @ w + b, yb)
            loss.backward()
            with fw.no_grad():
                w.sub_(0.1 * w.grad)
                b.sub_(0.1 * b.grad)
                w.grad.zero_()
                b.grad.zero_()
            return loss
        run = fw.compile(step, backend="cpu") if compiled else step

        def call():
            nonlocal i
            i = (i + 1) % N_BATCHES
            return run()
        return call
    return setup


CASE = Case(
    name="sliced_batches",
    description=f"nn_tutorial's loop: x_train[i*bs:i*bs+bs] ({N_BATCHES} batches of {BS}x"
                f"{FEATURES}, cycled), linear + cross_entropy + SGD, float32; baseline: "
                "stepjit eager",
    baseline="stepjit eager",
    variants=eager_compiled_torch(_setup),
)
