"""A character-level LSTM written with the idioms of older course notebooks: the hidden state
made by `weight.new(layers, batch, hidden).zero_()` from `next(self.parameters()).data`,
detached between batches with `tuple([each.data for each in h])`, one-hot inputs built in
NumPy, `net.zero_grad()`, gradient clipping and Adam. Run eagerly and compiled (the loop body
as the step, its hidden state rebound each call), every loss equal. The step takes the NumPy
batches as the notebooks' loop has them: a trace cannot bind an array, so the step runs its
Python on every call, with a warning saying to pass tensors; given tensors, it replays its
trace. `Tensor.new` with a Size is a shape, as PyTorch's."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn

CHARS, HIDDEN, LAYERS, BATCH, SEQ = 7, 8, 2, 3, 5


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(CHARS, HIDDEN, LAYERS, batch_first=True)
        self.fc = nn.Linear(HIDDEN, CHARS)

    def forward(self, x, hidden):
        out, hidden = self.lstm(x, hidden)
        return self.fc(out.contiguous().view(-1, HIDDEN)), hidden

    def init_hidden(self, batch):
        weight = next(self.parameters()).data
        return (weight.new(LAYERS, batch, HIDDEN).zero_(),
                weight.new(LAYERS, batch, HIDDEN).zero_())


def _batches(steps):
    rng = np.random.RandomState(4)
    for _ in range(steps):
        ids = rng.randint(0, CHARS, (BATCH, SEQ + 1))
        onehot = np.zeros((BATCH, SEQ, CHARS), np.float32)
        onehot[np.arange(BATCH)[:, None], np.arange(SEQ), ids[:, :-1]] = 1.0
        yield onehot, np.ascontiguousarray(ids[:, 1:])


def _train(compiled, steps=5, tensors=False):
    torch.manual_seed(0)
    net = CharLSTM()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    h = net.init_hidden(BATCH)
    assert h[0].shape == (LAYERS, BATCH, HIDDEN) and h[0].dtype is torch.float32
    assert not h[0].requires_grad

    def step(x, y):
        nonlocal h
        inputs, targets = (x, y) if tensors else (torch.from_numpy(x), torch.from_numpy(y))
        h = tuple([each.data for each in h])
        net.zero_grad()
        output, h = net(inputs, h)
        loss = criterion(output, targets.view(BATCH * SEQ).long())
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5)
        opt.step()
        return loss

    run = torch.compile(step, backend="interpret") if compiled else step
    convert = torch.from_numpy if tensors else (lambda a: a)
    return [run(convert(x), convert(y)).item() for x, y in _batches(steps)], run


def test_numpy_batches_are_inputs_replayed_and_equal_eager():
    eager, _ = _train(False)
    compiled, run = _train(True)     # (torch.from_numpy of the step's arrays: inputs)
    assert compiled == eager
    stats = run.stats()
    assert stats["fallbacks"] == 0 and stats["mode"] == "tree" and stats["traces"] <= 3, stats


def test_tensor_batches_replay_and_equal_eager():
    eager, _ = _train(False)
    compiled, run = _train(True, tensors=True)
    assert compiled == eager
    stats = run.stats()
    assert stats["fallbacks"] == 0 and stats["mode"] == "tree" and stats["traces"] <= 3, stats


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_new_with_a_size_is_a_shape_and_a_tuple_is_data(dtype):
    x = torch.ones(2, dtype=dtype)
    assert x.new(torch.Size([2, 3])).shape == (2, 3)
    assert x.new((2, 3)).tolist() == [2.0, 3.0]
    assert x.new(2, 3).dtype is dtype and x.new().shape == (0,)
