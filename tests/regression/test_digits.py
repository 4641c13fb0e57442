"""A softmax classifier with CrossEntropyLoss on scikit-learn's digits (8x8 images, 10 classes).

Optional: skipped when scikit-learn is absent. Full-batch SGD with momentum on 1437 training
images for STEPS steps; measured: the eager and compiled runs agree bit for bit on the
interpret backend and reach 0.958 test accuracy on the 360 held-out images (the test asks
for >= 0.93).
"""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn

from .harness import Program, compare, run

STEPS = 40
MIN_ACCURACY = 0.93


def digits_program():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    n_train = 1437
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x[:n_train]), torch.from_numpy(y[:n_train])

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    prog = Program(step, (xt, yt), list(model.parameters()), steps=STEPS)
    prog.extra.update(model=model, test=(torch.from_numpy(x[n_train:]), y[n_train:]))
    return prog


def accuracy(prog):
    xv, yv = prog.extra["test"]
    with torch.no_grad():
        pred = prog.extra["model"](xv).argmax(dim=1).numpy()
    return float((pred == yv).mean())


def test_digits_softmax_classifier_eager_and_compiled():
    prog = digits_program()
    eager = run(prog)
    eager_acc = accuracy(prog)
    prog = digits_program()
    compiled = torch.compile(prog.step, backend="interpret")
    got = run(prog, [compiled])
    compare(eager, got, 0.0)
    assert compiled.stats()["traces"] <= 2
    losses = [s["result"][0] for s in eager]
    assert losses[-1] < 0.5 * losses[0]
    assert eager_acc >= MIN_ACCURACY, eager_acc
    assert accuracy(prog) == eager_acc
