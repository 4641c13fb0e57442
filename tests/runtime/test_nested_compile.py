"""A compiled function called while another compiled step is traced is inlined into that trace,
as torch.compile inlines a nested compiled region: `model = torch.compile(model)` followed by a
compiled training step (a script compiling its model, then a harness compiling its loop body).
Running the inner one's own program there handed trace values to its kernels (a crash) or, from
its fast call, returned concrete results whose gradients never reached the outer step's
parameters. References: the same program with neither compiled."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(12, 4, dtype=torch.float64)
        self.head = nn.Linear(4, 3, dtype=torch.float64)

    def forward(self, idx):
        return self.head(self.tok(idx))


def _train(compile_model, compile_step, backend, steps=4):
    torch.manual_seed(0)
    model = TinyLM()
    forward = torch.compile(model, backend=backend) if compile_model else model
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    rng = np.random.RandomState(1)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(forward(x).flatten(0, 1), y.flatten())
        loss.backward()
        opt.step()
        return loss

    run = torch.compile(step, backend=backend) if compile_step else step
    losses = [run(torch.tensor(rng.randint(0, 12, (2, 5))), torch.tensor(rng.randint(0, 3, (2, 5))))
              .item() for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], run


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_compiled_model_inside_a_compiled_step_trains_as_eagerly(backend):
    want, want_params, _ = _train(False, False, backend)
    got, params, run = _train(True, True, backend)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for p, q in zip(params, want_params):
        np.testing.assert_allclose(p, q, rtol=1e-12)
    assert run.stats()["fallbacks"] == 0


def test_an_inner_step_with_a_fast_call_still_gives_the_outer_step_its_gradients():
    w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    penalty = torch.compile(lambda: (w * w).sum(), backend="interpret")
    for _ in range(3):
        assert penalty().item() == 14.0    # (its fast call is built by now)

    def step():
        loss = penalty() * 2
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss
    outer = torch.compile(step, backend="interpret")
    values = np.array([1.0, 2.0, 3.0])
    for _ in range(3):
        assert outer().item() == pytest.approx(2 * (values ** 2).sum(), rel=1e-15)
        values = values - 0.1 * 4 * values
        np.testing.assert_allclose(w.detach().numpy(), values, rtol=1e-15)
