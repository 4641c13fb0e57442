"""nn.utils.clip_grad_norm_ / clip_grad_value_."""
import math

import numpy as np

import stepjit
import stepjit.nn as nn


def _params_with_grads(*grads):
    ps = []
    for g in grads:
        p = nn.Parameter(stepjit.zeros(len(g)))
        p.grad = stepjit.tensor(g)
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_when_above_max():
    ps = _params_with_grads([3.0, 0.0], [0.0, 4.0])
    total = nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    assert math.isclose(total.item(), 5.0, rel_tol=1e-6)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3 * scale, 0], rtol=1e-6)
    np.testing.assert_allclose(ps[1].grad.numpy(), [0, 4 * scale], rtol=1e-6)


def test_clip_grad_norm_leaves_small_grads_and_inf_norm():
    ps = _params_with_grads([0.3, -0.4])
    nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.3, -0.4], rtol=1e-6)
    ps = _params_with_grads([1.0, -6.0], [2.0])
    total = nn.utils.clip_grad_norm_(ps, max_norm=3.0, norm_type=math.inf)
    assert math.isclose(total.item(), 6.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.5, -3.0], rtol=1e-5)


def test_clip_grad_value():
    ps = _params_with_grads([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_(ps, 1.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [-1.0, 0.5, 1.0])
