"""nn.utils.parametrize's mechanics and errors, and the parametrizations' argument checks
(values against PyTorch: test_nn_utils_recorded.py)."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit import nn
from stepjit.nn.utils import parametrizations, parametrize


class Double(nn.Module):
    def forward(self, x):
        return 2 * x


class Rows(nn.Module):
    def forward(self, x):
        return x[:1]


def test_the_class_is_made_for_the_instance_only():
    m, other = nn.Linear(3, 3), nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Double())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert type(other) is nn.Linear and "weight" in other._parameters
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias") and not parametrize.is_parametrized(other)
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    np.testing.assert_allclose(m.weight.detach().numpy(),
                               2 * m.parametrizations.weight.original.detach().numpy())


def test_remove_keeps_the_tensor_an_optimizer_holds():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Double())
    original = m.parametrizations.weight.original
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    expected = 2 * original.detach().numpy()
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and m.weight is original
    np.testing.assert_allclose(m.weight.detach().numpy(), expected)
    assert any(p is original for p in opt.param_groups[0]["params"])
    assert not hasattr(m, "parametrizations")


def test_errors_name_the_problem():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Rows())
    assert type(m) is nn.Linear and "weight" in m._parameters   # left as it was
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(m, "nothing", Double())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")
    parametrize.register_parametrization(m, "weight", Double())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = torch.zeros(2, 3)
    parametrizations.weight_norm(m, "bias")
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(m, "bias", leave_parametrized=False)


def test_unsafe_allows_a_new_shape():
    m = nn.Linear(3, 2)
    parametrize.register_parametrization(m, "weight", Rows(), unsafe=True)
    assert tuple(m.weight.shape) == (1, 3)


def test_deepcopy_is_independent_and_pickle_refuses():
    m = parametrizations.weight_norm(nn.Linear(3, 2))
    c = copy.deepcopy(m)
    with torch.no_grad():
        c.parametrizations.weight.original0.mul_(3)
    assert not np.allclose(c.weight.detach().numpy(), m.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_cached_computes_once():
    calls = []

    class Counted(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1

    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Counted())
    calls.clear()
    with parametrize.cached():
        m.weight, m.weight
    assert len(calls) == 1
    m.weight
    assert len(calls) == 2


def test_spectral_norm_and_orthogonal_check_arguments():
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="w")
    with pytest.raises(ValueError, match="Expected a matrix"):
        parametrizations.orthogonal(nn.Linear(2, 2), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")


def test_orthogonal_of_a_wide_matrix_is_orthogonal():
    m = parametrizations.orthogonal(nn.Linear(5, 3).double())
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-12)


def test_legacy_hooks_refuse_a_second_registration():
    m = nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError, match="two weight_norm hooks"):
            nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        nn.utils.remove_weight_norm(m, "bias")
    s = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(s)
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found"):
        nn.utils.remove_spectral_norm(s, "bias")
