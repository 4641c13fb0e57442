"""Batches held in a record the loop rebinds (tracer/records.py).

`for batch in loader: step()` with a step reading `batch[0]`, `batch["src"]` or `batch.src`
(torchtext's Batch): each call binds a new record. Compiled, each call must equal the eager
one, replaying one trace (the optimizer's state, the first `.grad`, then steady state) with
no call run eagerly: before, the new record failed a binding guard on every call, and past
the recompile limit the step ran eagerly. A record of another structure, or one whose numbers
the step reads, must still give eager's result.
"""
from collections import namedtuple

import numpy as np
import pytest

import stepjit as torch

nn = torch.nn
CALLS = 12
Pair = namedtuple("Pair", "src trg")


class Batch:
    """torchtext's legacy Batch: tensors and bookkeeping as attributes."""

    def __init__(self, src, trg):
        self.src, self.trg = src, trg
        self.batch_size = src.shape[0]
        self.fields = ["src", "trg"]


RECORDS = {
    "tuple": lambda x, y: (x, y),
    "list": lambda x, y: [x, y],
    "namedtuple": Pair,
    "dict": lambda x, y: {"src": x, "trg": y},
    "nested": lambda x, y: {"inputs": (x,), "labels": {"trg": y}},
    "object": Batch,
}
READ = {
    "tuple": lambda b: (b[0], b[1]),
    "list": lambda b: (b[0], b[1]),
    "namedtuple": lambda b: (b.src, b.trg),
    "dict": lambda b: (b["src"], b["trg"]),
    "nested": lambda b: (b["inputs"][0], b["labels"]["trg"]),
    "object": lambda b: (b.src, b.trg),
}


def _data(kind, rows=(4,) * CALLS):
    g = torch.Generator().manual_seed(3)
    return [RECORDS[kind](torch.rand(n, 5, generator=g, dtype=torch.float64),
                          torch.rand(n, 2, generator=g, dtype=torch.float64)) for n in rows]


def _train(kind, compiled, data, read=None):
    read = read or READ[kind]
    torch.manual_seed(0)
    model = nn.Linear(5, 2).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = None

    def step():
        x, y = read(batch)
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step) if compiled else step
    losses = []
    for batch in data:      # (rebinds the step's closure variable)
        losses.append(fn().item())
    return losses, model.weight.detach().numpy().copy(), fn


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_a_new_record_per_call_replays_one_trace(kind):
    data = _data(kind)
    eager, w_eager, _ = _train(kind, False, data)
    compiled, w_comp, fn = _train(kind, True, data)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-12)
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    # first call (Adam's state), .grad no longer None, and the re-verification at reuse #1
    assert st["traces"] <= 4, st


def test_a_record_of_new_sizes_traces_again_and_matches_eager():
    data = _data("dict", rows=(4, 4, 4, 6, 6, 6, 4, 4))
    eager, w_eager, _ = _train("dict", False, data)
    compiled, w_comp, fn = _train("dict", True, data)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-12)
    assert fn.stats()["fallbacks"] == 0


def test_a_record_of_another_structure_is_not_replayed():
    """The step picks its target by the record's length: a replay would take the old one."""
    g = torch.Generator().manual_seed(5)
    x, y, z = (torch.rand(4, 5, generator=g, dtype=torch.float64) for _ in range(3))
    data = [(x, y[:, :2])] * 3 + [(x, y[:, :2], z[:, :2])] * 3 + [(x, y[:, :2])] * 2
    data = [tuple(t.clone() for t in b) for b in data]

    def read(b):
        return b[0], b[-1]
    eager, _, _ = _train("tuple", False, data, read)
    compiled, _, fn = _train("tuple", True, data, read)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    assert fn.stats()["fallbacks"] == 0


def test_a_number_the_step_reads_from_the_record_is_guarded():
    """`batch.batch_size` scales the loss: a record with another one must not replay."""
    data = _data("object", rows=(4,) * 6)
    for i, b in enumerate(data):
        b.batch_size = 2 + i % 2

    def read(b):
        return b.src * b.batch_size, b.trg
    eager, _, _ = _train("object", False, data, read)
    compiled, _, fn = _train("object", True, data, read)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    assert fn.stats()["fallbacks"] == 0


def test_a_record_holding_weights_stays_lifted_by_identity():
    """A record holding tensors that require grad is state: its weights are not read per call
    (the step's update must reach the very tensors the record holds)."""
    torch.manual_seed(0)
    x = torch.rand(4, 3, dtype=torch.float64)

    def run(compiled):
        params = {"w": torch.ones(3, 1, dtype=torch.float64, requires_grad=True)}

        def step():
            loss = (x @ params["w"]).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                params["w"] -= 0.1 * params["w"].grad
                params["w"].grad.zero_()
            return loss
        fn = torch.compile(step) if compiled else step
        out = [fn().item() for _ in range(5)]
        return out, params["w"].detach().numpy()
    eager, w_eager = run(False)
    compiled, w_comp = run(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-12)


def test_a_step_that_writes_into_the_record_matches_eager():
    """`batch["src"] = batch["src"] * 2` inside the step: the record is the step's output too."""
    data = _data("dict", rows=(4,) * 5)

    def run(compiled):
        records = [dict(b) for b in data]
        torch.manual_seed(0)
        model = nn.Linear(5, 2).double()
        batch = None

        def step():
            batch["src"] = batch["src"] * 2
            loss = ((model(batch["src"]) - batch["trg"]) ** 2).mean()
            loss.backward()
            return loss
        fn = torch.compile(step) if compiled else step
        out = []
        for batch in records:
            out.append(fn().item())
        return out, [r["src"].numpy() for r in records], model.weight.grad.numpy()
    eager, src_eager, g_eager = run(False)
    compiled, src_comp, g_comp = run(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    np.testing.assert_allclose(g_comp, g_eager, rtol=1e-12)
    for a, b in zip(src_comp, src_eager):
        np.testing.assert_allclose(a, b, rtol=1e-12)
