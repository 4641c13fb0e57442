"""nn.Parameter: a leaf Tensor subclass sharing its source's storage."""
import pickle

import numpy as np

import stepjit
import stepjit.nn as nn


def test_parameter_is_a_leaf_tensor_requiring_grad():
    p = nn.Parameter(stepjit.ones(2))
    assert isinstance(p, stepjit.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not nn.Parameter(stepjit.ones(2), requires_grad=False).requires_grad


def test_parameter_shares_storage_with_its_source():
    t = stepjit.zeros(3)
    p = nn.Parameter(t)
    t.add_(2)
    np.testing.assert_array_equal(p.detach().numpy(), [2, 2, 2])


def test_ops_on_parameter_return_tensors_with_history():
    p = nn.Parameter(stepjit.tensor([1.0, 2.0]))
    y = (p * p).sum()
    assert type(y) is stepjit.Tensor and y.grad_fn is not None
    y.backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0])


def test_parameter_repr_and_default():
    p = nn.Parameter(stepjit.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert nn.Parameter().shape == (0,)


def test_parameter_pickles_as_parameter():
    p = nn.Parameter(stepjit.tensor([1.0, 2.0]))
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad
    np.testing.assert_array_equal(q.detach().numpy(), [1.0, 2.0])
