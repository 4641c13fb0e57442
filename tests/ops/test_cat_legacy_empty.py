"""The legacy empty start: `torch.FloatTensor()` (and every typed name called with nothing)
is a 1-D tensor of 0 elements, and cat skips such tensors as PyTorch does, so a loop that
grows a result from it (`out = torch.cat((out, row), 0)`) works for rows of any rank."""
import numpy as np
import pytest

import stepjit as torch


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor", "ByteTensor"])
def test_a_typed_name_called_with_nothing_is_empty_and_one_dimensional(name):
    t = getattr(torch, name)()
    assert tuple(t.shape) == (0,) and t.dtype is getattr(torch, name).dtype


def test_rows_appended_to_an_empty_start_stack_up():
    g = np.random.default_rng(0)
    rows = [g.standard_normal((1, 4)).astype(np.float32) for _ in range(3)]
    out = torch.FloatTensor()
    for r in rows:
        out = torch.cat((out, torch.from_numpy(r)), 0)
    np.testing.assert_array_equal(out.numpy(), np.concatenate(rows))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_the_empty_part_may_stand_anywhere_and_dim_follows_the_real_parts(dim):
    a = torch.arange(6.).reshape(2, 3)
    got = torch.cat([torch.zeros(0), a, torch.zeros(0), a], dim)
    np.testing.assert_array_equal(got.numpy(), np.concatenate([a.numpy(), a.numpy()], dim))


def test_the_empty_part_still_promotes_and_gets_an_empty_gradient():
    empty = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    w = torch.ones(2, 3, requires_grad=True)
    out = torch.cat([empty, w], 1)
    assert out.dtype is torch.float64
    (out * 2).sum().backward()
    assert tuple(empty.grad.shape) == (0,)
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 3), 2.0))


def test_a_compiled_step_growing_from_an_empty_start_matches_eager():
    w = torch.ones(3, 2, requires_grad=True)

    def step(xs):
        feats = torch.FloatTensor()
        for i in range(xs.shape[0]):
            feats = torch.cat((feats, (xs[i:i + 1] @ w).tanh()), 0)
        loss = feats.pow(2).sum()
        loss.backward()
        return loss

    xs = torch.arange(12.).reshape(4, 3) / 10
    eager = step(xs).item()
    g_eager = w.grad.clone()
    w.grad = None
    compiled = torch.compile(step, backend="interpret")(xs).item()
    assert compiled == pytest.approx(eager, rel=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), g_eager.numpy(), rtol=1e-6)


def test_shapes_that_really_differ_are_still_refused():
    with pytest.raises(RuntimeError, match="concat: shapes"):
        torch.cat([torch.ones(2, 2), torch.ones(3)], 0)
