"""Layers: Linear init and forward, activations, Sequential, Dropout, Flatten, Softmax."""
import math

import numpy as np
import pytest

import stepjit
import stepjit.nn as nn


def _np(t):
    return t.detach().numpy()


def test_linear_shapes_init_bounds_and_forward():
    stepjit.manual_seed(0)
    m = nn.Linear(16, 5)
    assert m.weight.shape == (5, 16) and m.bias.shape == (5,)
    bound = 1 / math.sqrt(16)
    for p in (m.weight, m.bias):
        assert np.all(np.abs(_np(p)) <= bound)
    assert np.std(_np(m.weight)) > bound / 3  # actually spread over the interval, not zeros
    x = stepjit.randn(4, 16)
    np.testing.assert_allclose(_np(m(x)), x.numpy() @ _np(m.weight).T + _np(m.bias), rtol=1e-5,
                               atol=1e-6)
    assert m(x).grad_fn.name() == "AddmmBackward0"


def test_linear_without_bias_and_dtype():
    m = nn.Linear(3, 2, bias=False, dtype=stepjit.float64)
    assert m.bias is None and m.weight.dtype is stepjit.float64
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    x = stepjit.randn(2, 3, dtype=stepjit.float64)
    np.testing.assert_allclose(_np(m(x)), x.numpy() @ _np(m.weight).T)


def test_linear_gradients():
    m = nn.Linear(3, 2)
    x = stepjit.randn(4, 3)
    m(x).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-5)
    np.testing.assert_allclose(m.bias.grad.numpy(), [4.0, 4.0])


def test_activations():
    x = stepjit.tensor([[-1.5, 0.0, 2.0]])
    a = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(a, 0))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-a)), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(a), rtol=1e-6)
    e = np.exp(a - a.max(1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), e / e.sum(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(x).numpy(),
                               np.log(e / e.sum(1, keepdims=True)), rtol=1e-6)
    assert nn.Identity(3, foo=1)(x) is x


def test_relu_inplace_writes_input():
    x = stepjit.tensor([-1.0, 2.0])
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 2.0]


def test_softmax_without_dim_warns_and_uses_pytorch_choice():
    x = stepjit.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.numpy().sum(1), [1.0, 1.0], rtol=1e-6)  # dim 1 for 2-D input


def test_sequential_indexing_len_iteration_and_forward():
    layers = [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and list(s) == layers
    assert s[0] is layers[0] and s[-1] is layers[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]  # slicing keeps the names
    x = stepjit.randn(5, 3)
    np.testing.assert_allclose(_np(s(x)), _np(layers[2](layers[1](layers[0](x)))))
    with pytest.raises(IndexError):
        s[3]
    s[1] = nn.Sigmoid()  # replacing keeps the position
    assert isinstance(s[1], nn.Sigmoid) and [n for n, _ in s.named_children()] == ["0", "1", "2"]
    s[1] = layers[1]
    s.append(nn.Tanh())
    assert len(s) == 4 and isinstance(s[3], nn.Tanh)
    del s[0]
    assert [n for n, _ in s.named_children()] == ["0", "1", "2"] and s[0] is layers[1]


def test_sequential_from_ordered_dict():
    from collections import OrderedDict
    s = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in s.named_parameters()] == ["fc.weight", "fc.bias"]
    assert s.act is s[1]


def test_module_list_registers_parameters():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and len(ml[:2]) == 2


def test_dropout_train_scales_and_masks_eval_is_identity():
    stepjit.manual_seed(0)
    d = nn.Dropout(p=0.25)
    x = stepjit.ones(200, 50)
    y = d(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    d.eval()
    assert d(x) is x
    assert nn.Dropout(p=0.0)(x) is x
    assert np.all(nn.Dropout(p=1.0)(x).numpy() == 0)
    with pytest.raises(ValueError):
        nn.Dropout(p=1.5)


def test_dropout_is_reproducible_with_manual_seed_and_has_gradient():
    x = stepjit.ones(4, 6, requires_grad=True)
    stepjit.manual_seed(7)
    a = nn.Dropout(0.5)(x)
    stepjit.manual_seed(7)
    b = nn.Dropout(0.5)(x)
    np.testing.assert_array_equal(_np(a), _np(b))
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), _np(a))  # d(x * noise)/dx = noise


def test_flatten():
    x = stepjit.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
