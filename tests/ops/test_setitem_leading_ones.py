"""x[key] = value with a value that has more dims than the place it fills, all of them
leading 1s, as PyTorch allows (it drops them before broadcasting): d2l's multi-step
forecast writes a (1, 1) model output into one element, `preds[i] = net(window)`. Values
against NumPy, gradients through the write, and the forecast loop compiled against eager."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


CASES = [((10,), 5, (1, 1)), ((10,), slice(2, 4), (1, 2)), ((3, 4), 1, (1, 1, 4)),
         ((3, 4), (slice(None), 2), (1, 3)), ((3, 4), [0, 2], (1, 1, 4)), ((3, 4), (0, 1), (1,))]
IDS = ["element", "slice", "row", "column", "rows_by_index", "element_from_1"]


def _assign(T, shape, key, value_shape):
    rng = np.random.RandomState(0)
    t = T.from_numpy(rng.standard_normal(shape).astype(np.float32))
    t[key] = T.from_numpy(rng.standard_normal(value_shape).astype(np.float32))
    return t.numpy()


@pytest.mark.parametrize("shape,key,value_shape", CASES, ids=IDS)
def test_leading_ones_are_dropped(shape, key, value_shape):
    got = _assign(torch, shape, key, value_shape)
    rng = np.random.RandomState(0)
    want = rng.standard_normal(shape).astype(np.float32)
    value = rng.standard_normal(value_shape).astype(np.float32)
    first = next((i for i, n in enumerate(value_shape) if n != 1), len(value_shape))
    want[key] = np.broadcast_to(value.reshape(value_shape[first:]), np.shape(want[key]))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape,key,value_shape", CASES, ids=IDS)
def test_as_pytorch(shape, key, value_shape):
    pt = pytest.importorskip("torch")
    np.testing.assert_array_equal(_assign(torch, shape, key, value_shape),
                                  _assign(pt, shape, key, value_shape))


def test_a_value_that_cannot_broadcast_still_raises():
    t = torch.zeros(10)
    with pytest.raises(Exception, match="setitem|slice_scatter|broadcast"):
        t[2:4] = torch.ones(2, 1)


def test_gradients_flow_through_the_write():
    torch.manual_seed(0)
    lin = nn.Linear(4, 1)
    x = torch.randn(4)
    preds = torch.zeros(6)
    preds[3] = lin(x.reshape((1, -1)))
    preds.sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), x.numpy()[None, :])
    assert lin.bias.grad.tolist() == [1.0]


def _forecast(net, series, tau, start):
    preds = torch.zeros(series.shape[0])
    preds[:] = series
    for i in range(start, series.shape[0]):
        preds[i] = net(preds[i - tau:i].reshape((1, -1)))
    return preds


def test_a_multistep_forecast_compiled_equals_eager():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    series = torch.sin(torch.arange(20, dtype=torch.float32) * 0.3)
    with torch.no_grad():
        eager = _forecast(net, series, 4, 12)
        compiled = torch.compile(_forecast, backend="interpret")(net, series, 4, 12)
    np.testing.assert_array_equal(compiled.numpy(), eager.numpy())
    assert not np.array_equal(eager.numpy()[12:], series.numpy()[12:])
