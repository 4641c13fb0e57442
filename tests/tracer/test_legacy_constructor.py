"""Tensors made inside a compiled step by the legacy constructor, `Tensor(data)` and
`Tensor(*sizes)` (the character-level generation tutorial's `loss = torch.Tensor([0])` then
`loss += l` per letter; the BiLSTM-CRF tutorial's `Tensor(1, n).fill_(-10000.)`), are
constants of the trace, as `tensor(...)` and `zeros(...)` are. Before, they were concrete
tensors the tracer took for outside state: the in-place sum was written back into the traced
object and every replay started from the last call's total (the loss read 2x, 3x, ... the
eager one, silently)."""
import pytest

import stepjit as torch


def _run(make, compiled):
    w = torch.ones(3, dtype=torch.float32, requires_grad=True)

    def step(x):
        total = make()
        for _ in range(2):
            total += (w * x).sum()
        total.sum().backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
            w.grad.zero_()
        return total.sum().item()
    fn = torch.compile(step, backend="interpret") if compiled else step
    return [fn(torch.ones(3)) for _ in range(6)], fn


@pytest.mark.parametrize("make", [
    lambda: torch.Tensor([0]),
    lambda: torch.Tensor(1, 2).fill_(-1.0),
    lambda: torch.Tensor(torch.zeros(1)),
], ids=["data", "sizes", "tensor"])
def test_a_legacy_constructed_accumulator_starts_fresh_every_call(make):
    eager, _ = _run(make, False)
    compiled, fn = _run(make, True)
    assert compiled == eager
    assert fn.stats()["fallbacks"] == 0


def test_the_constructor_outside_a_step_is_unchanged():
    a = torch.Tensor([1, 2])
    b = torch.Tensor(a)
    b += 1                                  # one storage: PyTorch's Tensor(other) shares it
    assert a.tolist() == [2.0, 3.0] and torch.Tensor(2, 3).shape == (2, 3)
    assert torch.Tensor([1]).dtype is torch.float32
