"""A view of a view of a tensor that requires grad (h.reshape(-1)[:5]): eager and compiled, with
gradients through both views (the base of the chain is the first tensor, as in PyTorch)."""
import numpy as np

import stepjit as torch


def test_view_of_a_view_of_a_graph_tensor():
    w = torch.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    h = w * 2
    v = h.reshape(-1)[2:7]
    assert v._base is h
    v.sum().backward()
    expected = np.zeros(12, np.float32)
    expected[2:7] = 2
    np.testing.assert_array_equal(w.grad.numpy(), expected.reshape(3, 4))


def test_view_chain_in_a_compiled_step_matches_eager():
    def step(w):
        loss = (w * 2).reshape(-1)[1:5].pow(2).sum()
        loss.backward()
        return loss

    def state():
        return torch.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), requires_grad=True)
    we, wc = state(), state()
    fn = torch.compile(step, backend="cpu")
    for _ in range(3):
        le, lc = step(we), fn(wc)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-6)
        np.testing.assert_allclose(wc.grad.numpy(), we.grad.numpy(), rtol=1e-6)
