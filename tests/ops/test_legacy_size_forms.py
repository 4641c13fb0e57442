"""Pre-0.4 idioms of old tutorials: a typed name called with a `Size` makes a tensor of that
shape (`torch.FloatTensor(std.size()).normal_()` draws a VAE's noise), while a plain tuple is
still data; and indexing a 0-d tensor (`loss.data[0]`) fails with PyTorch's IndexError and
words, pointing at .item()."""
import numpy as np
import pytest

import stepjit as torch


def test_a_size_argument_is_a_shape_and_a_tuple_is_data():
    std = torch.ones(4, 5)
    assert tuple(torch.FloatTensor(std.size()).shape) == (4, 5)
    assert tuple(torch.LongTensor(std.shape).shape) == (4, 5)
    assert torch.LongTensor(std.shape).dtype is torch.int64
    assert torch.FloatTensor((4, 5)).tolist() == [4.0, 5.0]


def test_noise_drawn_into_a_size_shaped_tensor_reparametrizes_under_compile():
    mu = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)

    def step():
        std = logvar.mul(0.5).exp_()
        eps = torch.FloatTensor(std.size()).normal_()
        z = eps.mul(std).add_(mu)
        loss = z.pow(2).sum()
        loss.backward()
        return loss

    torch.manual_seed(4)
    eager = step().item()
    g = mu.grad.clone()
    mu.grad = logvar.grad = None
    torch.manual_seed(4)
    compiled = torch.compile(step, backend="interpret")().item()
    assert compiled == pytest.approx(eager, rel=1e-6)
    np.testing.assert_allclose(mu.grad.numpy(), g.numpy(), rtol=1e-6)


@pytest.mark.parametrize("key, words", [
    (0, "invalid index of a 0-dim tensor. Use `tensor.item\\(\\)`"),
    (slice(0, 1), "slice\\(\\) cannot be applied to a 0-dim tensor"),
    ((0, 0), "too many indices for tensor of dimension 0"),
])
def test_indexing_a_scalar_loss_names_the_cure(key, words):
    loss = torch.tensor(0.25)
    with pytest.raises(IndexError, match=words):
        loss[key]
    with pytest.raises(IndexError, match=words):
        loss[key] = 1.0
    assert loss.item() == 0.25
    assert tuple(loss[None].shape) == (1,) and loss[...].item() == 0.25
