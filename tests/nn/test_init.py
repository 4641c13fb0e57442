"""nn.init: fans, gains, bounds, in-place writes under no_grad."""
import math

import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
from stepjit.nn import init


def test_fans_and_gains():
    assert init.calculate_fan_in_and_fan_out(stepjit.zeros(5, 3)) == (3, 5)
    assert init.calculate_fan_in_and_fan_out(stepjit.zeros(4, 2, 3, 3)) == (18, 36)
    with pytest.raises(ValueError):
        init.calculate_fan_in_and_fan_out(stepjit.zeros(3))
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError):
        init.calculate_gain("swish")


def test_initializers_write_in_place_on_parameters():
    p = nn.Parameter(stepjit.zeros(200, 100))
    for fn in (init.uniform_, init.normal_, init.ones_, init.zeros_, init.xavier_uniform_,
               init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_):
        assert fn(p) is p
        assert p.requires_grad and p.grad_fn is None
    init.constant_(p, 0.3)
    np.testing.assert_allclose(p.detach().numpy(), 0.3, rtol=1e-6)


def test_uniform_bounds():
    stepjit.manual_seed(0)
    t = stepjit.zeros(300, 100)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    bound = 1 / math.sqrt(100)
    a = t.numpy()
    assert a.min() >= -bound and a.max() <= bound and a.max() > 0.95 * bound
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 400)
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.95 * bound
    init.uniform_(t, 2.0, 3.0)
    assert t.numpy().min() >= 2.0 and t.numpy().max() < 3.0


def test_normal_std():
    stepjit.manual_seed(0)
    t = stepjit.zeros(400, 100)
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2 / 400)) < 0.005
    init.xavier_normal_(t)
    assert abs(t.numpy().std() - math.sqrt(2 / 500)) < 0.005
    init.normal_(t, 5.0, 0.1)
    assert abs(t.numpy().mean() - 5.0) < 0.01


def test_bad_mode_and_empty_tensor():
    with pytest.raises(ValueError):
        init.kaiming_uniform_(stepjit.zeros(2, 2), mode="fan_avg")
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_uniform_(stepjit.zeros(0, 3))
