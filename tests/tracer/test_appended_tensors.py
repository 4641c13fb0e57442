"""Tensors a training step appends to a list it reaches (`self.losses.append(loss)`,
`self.preds.append(out.detach())`, a new list each epoch): a write of the trace, replayed after
every call as appended numbers are (values.PyAppend, results.take_results): each call, traced
or replayed, appends a fresh tensor holding the value, without autograd history, as a compiled
step's results. They were state the trace made, so every call traced again (4 traces, then 17 of
21 calls eager). Every loss, parameter and kept tensor equals eager's after every call
(float64, interpret backend: bit for bit)."""
import numpy as np

import stepjit as torch
from stepjit import nn

EPOCHS, CALLS = 3, 7


class Trainer:
    def __init__(self):
        torch.manual_seed(0)
        self.model = nn.Linear(4, 3).double()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def step(self, x, y):
        out = self.model(x)
        loss = nn.functional.cross_entropy(out, y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.losses.append(loss)
        self.preds.append(out.detach().argmax(1))
        return loss


def _fit(compiled):
    t = Trainer()
    xs = torch.randn(EPOCHS * CALLS, 5, 4, dtype=torch.float64)
    ys = torch.randint(0, 3, (EPOCHS * CALLS, 5))
    step = torch.compile(t.step, backend="interpret") if compiled else t.step
    seen = []
    for e in range(EPOCHS):
        t.losses, t.preds = [], []     # a new log each epoch
        for i in range(e * CALLS, (e + 1) * CALLS):
            step(xs[i], ys[i])
            seen.append(([l.item() for l in t.losses], [p.tolist() for p in t.preds],
                         [p.detach().numpy().copy() for p in t.model.parameters()]))
        assert all(type(l) is torch.Tensor for l in t.losses)
    return seen, step


def test_appended_tensors_are_replayed():
    want, _ = _fit(False)
    got, step = _fit(True)
    for (l1, p1, w1), (l2, p2, w2) in zip(got, want):
        assert l1 == l2 and p1 == p2
        for a, b in zip(w1, w2):
            np.testing.assert_array_equal(a, b)
    st = step.stats()
    # first call, .grad present, then the next epochs' new lists (not counted by the limit)
    assert st["eager_calls"] == 0 and st["fallbacks"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 2 + EPOCHS, st
