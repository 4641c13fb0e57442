"""nn.utils.clip_grad_norm_ / clip_grad_value_."""
import math

import numpy as np
import pytest

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


def test_get_total_norm_then_clip_grads_with_norm_is_clip_grad_norm_():
    """PyTorch's two-part form: the norm of the gradients' norms, then the scaling."""
    import warnings

    import stepjit
    from stepjit.nn.utils import clip_grad_norm, clip_grads_with_norm_, get_total_norm
    g1, g2 = np.array([3.0, -4.0]), np.array([[12.0]])
    ps = [stepjit.zeros(2, requires_grad=True), stepjit.zeros(1, 1, requires_grad=True)]
    for p, g in zip(ps, (g1, g2)):
        p.grad = stepjit.tensor(g, dtype=stepjit.float32)
    total = get_total_norm([p.grad for p in ps])
    np.testing.assert_allclose(total.item(), 13.0, rtol=1e-6)
    np.testing.assert_allclose(get_total_norm([p.grad for p in ps], norm_type=1).item(), 19.0)
    clip_grads_with_norm_(ps, 6.5, total)
    np.testing.assert_allclose(ps[0].grad.numpy(), g1 * 6.5 / (13 + 1e-6), rtol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clip_grad_norm(ps, 100.0)
    assert any(issubclass(w.category, FutureWarning) for w in caught)
    assert get_total_norm([]).item() == 0.0


def test_skip_init_builds_the_module():
    import stepjit
    m = stepjit.nn.utils.skip_init(stepjit.nn.Linear, 3, 2, bias=False)
    assert tuple(m.weight.shape) == (2, 3) and m.bias is None
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        stepjit.nn.utils.skip_init(stepjit.nn.ReLU)
