"""nn.utils.parameters_to_vector / vector_to_parameters: PyTorch's order (parameters() order,
each flattened row-major), gradients through the vector, and the round trip."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
from stepjit.nn.utils import parameters_to_vector, vector_to_parameters


def model():
    stepjit.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))


def test_vector_is_every_parameter_flattened_in_order():
    m = model()
    v = parameters_to_vector(m.parameters())
    want = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert tuple(v.shape) == (11,)
    np.testing.assert_array_equal(v.detach().numpy(), want)


def test_gradient_flows_through_the_vector():
    m = model()
    (parameters_to_vector(m.parameters()) ** 2).sum().backward()
    for p in m.parameters():
        np.testing.assert_allclose(p.grad.numpy(), 2 * p.detach().numpy(), rtol=1e-6)


def test_round_trip_writes_the_parameters():
    m = model()
    vector_to_parameters(stepjit.arange(11.0), m.parameters())
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m[2].bias.detach().numpy(), [10.0])
    assert m[0].weight.requires_grad and isinstance(m[0].weight, nn.Parameter)
    np.testing.assert_array_equal(parameters_to_vector(m.parameters()).detach().numpy(),
                                  np.arange(11.0))


def test_wrong_vector_is_refused():
    with pytest.raises(TypeError, match="Tensor"):
        vector_to_parameters([1.0], model().parameters())
    with pytest.raises(RuntimeError, match="11 elements"):
        vector_to_parameters(stepjit.ones(10), model().parameters())


def test_live_pytorch_orders_the_same():
    torch = pytest.importorskip("torch")
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    m = model()
    with torch.no_grad():
        for a, b in zip(t.parameters(), m.parameters()):
            a.copy_(torch.from_numpy(b.detach().numpy()))
    np.testing.assert_array_equal(
        torch.nn.utils.parameters_to_vector(t.parameters()).detach().numpy(),
        parameters_to_vector(m.parameters()).detach().numpy())
