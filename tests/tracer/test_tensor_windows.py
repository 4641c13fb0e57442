"""Slices whose bounds are traced tensors (tracer/windows.py, _tensor_slice): the character-level
language models' `get_batch`, which draws window starts with randint inside the step and
stacks `data[i:i + block_size]` for each `i in ix`. The start changes on every call; taken as
an exact value it made one trace per draw until the recompile limit sent the step to eager.
A window of constant width at a traced start is a dynamic_slice guarded by one truth decision
(the start lies where Python's slice has every element), so one trace serves every draw;
an out-of-range start takes the exact path, with Python's shorter or empty result.
References: NumPy slicing of the same data with the same starts, and the eager run."""
import numpy as np
import pytest

import stepjit as torch

BLOCK, BATCH, N = 6, 3, 40


def _program(seed):
    torch.manual_seed(seed)
    data = torch.randint(0, 11, (N,))
    emb = torch.randn(11, 4, dtype=torch.float64, requires_grad=True)
    head = torch.randn(4, 11, dtype=torch.float64, requires_grad=True)

    def step():
        ix = torch.randint(len(data) - BLOCK, (BATCH,))
        x = torch.stack([data[i:i + BLOCK] for i in ix])
        y = torch.stack([data[i + 1:i + BLOCK + 1] for i in ix])
        logits = emb[x] @ head
        loss = torch.nn.functional.cross_entropy(logits.view(-1, 11), y.view(-1))
        loss.backward()
        with torch.no_grad():
            for p in (emb, head):
                p -= 0.5 * p.grad
                p.grad = None
        return ix, x, y, loss
    return step, data, (emb, head)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_get_batch_windows_trace_once_and_match_eager_and_numpy(backend):
    eager, data, eager_params = _program(0)
    fn, _, params = _program(0)
    compiled = torch.compile(fn, backend=backend)
    torch.manual_seed(1)
    wants = [eager() for _ in range(6)]
    torch.manual_seed(1)
    for want in wants:
        got = compiled()
        ix = got[0].numpy()
        d = data.numpy()
        np.testing.assert_array_equal(got[1].numpy(), np.stack([d[i:i + BLOCK] for i in ix]))
        np.testing.assert_array_equal(got[2].numpy(),
                                      np.stack([d[i + 1:i + BLOCK + 1] for i in ix]))
        for g, w in zip(got, want):   # (fused kernels may round a sum in another order)
            np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-12)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
    st = compiled.stats()
    assert (st["traces"], st["fallbacks"]) == (1, 0), st


def _columns(data, ix):
    return [data[:, i + 1:i + 4] * 1 for i in ix]


COLUMNS = torch.compile(_columns, backend="interpret")   # one compiled function for every case


@pytest.mark.parametrize("starts", [[0, 5], [3, 8], [9, 10], [-5, 1], [11, 0], [2, 6]])
def test_out_of_range_starts_give_pythons_shorter_windows(starts):
    data = torch.arange(24.0).reshape(2, 12)
    got = COLUMNS(data, torch.tensor(starts))
    for g, i in zip(got, starts):
        want = data.numpy()[:, i + 1:i + 4]
        assert g.shape == want.shape
        np.testing.assert_array_equal(g.numpy(), want)


def _write_through(data, ix):
    for i in ix:
        data[i:i + 3].mul_(2.0)
    return data.sum()


def test_writes_through_traced_windows_reach_the_base():
    compiled = torch.compile(_write_through, backend="interpret")
    a, b = torch.arange(10.0), np.arange(10.0)
    for starts in ([1, 5], [2, 4], [0, 7]):
        got = compiled(a, torch.tensor(starts))
        for i in starts:
            b[i:i + 3] *= 2.0
        np.testing.assert_array_equal(a.numpy(), b)
        assert got.item() == b.sum()


def test_a_width_that_depends_on_the_start_is_taken_exactly():
    def head(data, ix):
        return [data[:i] + 0 for i in ix] + [data[i:2 * i] + 0 for i in ix]
    compiled = torch.compile(head, backend="interpret")
    data = torch.arange(8.0)
    for starts in ([2, 3], [1, 4]):
        got = compiled(data, torch.tensor(starts))
        want = [data.numpy()[:i] for i in starts] + [data.numpy()[i:2 * i] for i in starts]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
