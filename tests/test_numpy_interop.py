"""NumPy meeting a tensor behaves as with PyTorch's tensors: a NumPy function applied to a
tensor gives a tensor back (`np.clip(noisy, 0., 1.)` in a denoising autoencoder's loop, then
fed to a conv layer), bool results as uint8; a NumPy scalar on the left of an operator defers
to the tensor (`np.float64(2.0) * t` is a float32 tensor that carries gradients, not a
float64 array); a layer handed an array says so."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


def _t():
    return torch.tensor([[-1.5, 2.0], [0.5, 3.0]])


@pytest.mark.parametrize("fn", [lambda a: np.clip(a, 0.0, 1.0), np.sin, np.abs,
                                lambda a: np.maximum(a, 0.0), np.tanh],
                         ids=["clip", "sin", "abs", "maximum", "tanh"])
def test_a_numpy_function_of_a_tensor_is_a_tensor(fn):
    t = _t()
    out = fn(t)
    assert isinstance(out, torch.Tensor) and out.dtype is torch.float32
    np.testing.assert_array_equal(out.numpy(), fn(t.numpy()))


def test_bool_results_come_back_as_uint8_and_zero_d_stays_a_tensor():
    mask = np.greater(_t(), 0)
    assert isinstance(mask, torch.Tensor) and mask.dtype is torch.uint8
    assert mask.tolist() == [[0, 1], [1, 1]]
    s = np.sin(torch.tensor(0.5))
    assert isinstance(s, torch.Tensor) and s.shape == () and s.item() == pytest.approx(np.sin(0.5))
    assert np.clip(torch.tensor([1, 5]), 0, 3).dtype is torch.int64


@pytest.mark.parametrize("make", [lambda w: np.float64(2.0) * w, lambda w: w * np.float64(2.0),
                                  lambda w: np.float32(2.0) * w, lambda w: np.sqrt(4.0) * w,
                                  lambda w: np.float64(4.0) / (2.0 / w)],
                         ids=["f64*t", "t*f64", "f32*t", "sqrt*t", "f64/t"])
def test_a_numpy_scalar_defers_to_the_tensor(make):
    w = torch.ones(3, requires_grad=True)
    out = make(w)
    assert isinstance(out, torch.Tensor) and out.dtype is torch.float32
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_numpy_scalar_in_a_compiled_step_equals_eager():
    scale = np.float64(0.5)

    def make():
        torch.manual_seed(0)
        return torch.randn(4, requires_grad=True), torch.randn(4)

    def step(w, x):
        loss = scale * ((w * x) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= np.float32(0.1) * w.grad
            w.grad = None
        return loss

    we, x = make()
    wc, _ = make()
    compiled = torch.compile(step, backend="interpret")
    for _ in range(3):
        e, c = step(we, x), compiled(wc, x)
        assert isinstance(c, torch.Tensor) and c.dtype is torch.float32
        assert e.item() == c.item()
    np.testing.assert_array_equal(we.detach().numpy(), wc.detach().numpy())


def test_a_clipped_noisy_batch_feeds_a_conv_layer():
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1)
    images = torch.rand(2, 1, 5, 5)
    noisy = np.clip(images + 0.5 * torch.randn(*images.shape), 0.0, 1.0)
    assert isinstance(noisy, torch.Tensor)
    out = conv(noisy)
    ref = conv(torch.from_numpy(np.clip(noisy.numpy(), 0.0, 1.0)))
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())


@pytest.mark.parametrize("call", [lambda a: nn.Conv2d(1, 1, 3)(a), lambda a: nn.MaxPool2d(2)(a),
                                  lambda a: nn.functional.avg_pool2d(a, 2)],
                         ids=["conv2d", "max_pool2d", "avg_pool2d"])
def test_a_layer_handed_an_array_names_it(call):
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not "
                                        r"ndarray"):
        call(np.zeros((1, 1, 4, 4), np.float32))
