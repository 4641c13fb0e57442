"""VonMises and LowRankMultivariateNormal (tests/distributions/cases_circular_lowrank.py)
against PyTorch's recorded values and gradients, finite differences, a live PyTorch where
installed and compiled steps against eager; then their samples against the laws."""
import math
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit import distributions as D
from tests.distributions.cases_circular_lowrank import CASES
from tests.fixtures import checks


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "distributions" / \
        "torch_circular_lowrank.npz"


f64 = stepjit.float64


def test_von_mises_samples_follow_the_law():
    stepjit.manual_seed(3)
    loc, kappa = 2.5, 4.0
    x = D.VonMises(stepjit.tensor([loc], dtype=f64), stepjit.tensor([kappa], dtype=f64)) \
        .sample((20000,)).numpy()[:, 0]
    assert x.min() >= -math.pi and x.max() <= math.pi
    # circular mean direction and mean resultant length I1(k)/I0(k) (0.8635 at k = 4)
    c, s = np.cos(x).mean(), np.sin(x).mean()
    assert abs(math.atan2(s, c) - loc) < 0.02
    assert abs(math.hypot(c, s) - 0.863513) < 0.01


def test_von_mises_sample_keeps_dtype_and_shape_and_has_no_rsample():
    d = D.VonMises(stepjit.zeros(2), stepjit.ones(2))
    s = d.sample((3,))
    assert tuple(s.shape) == (3, 2) and s.dtype is stepjit.float32
    assert not d.has_rsample


def test_lowrank_samples_have_its_covariance_and_gradients_reach_parameters():
    stepjit.manual_seed(5)
    loc = stepjit.tensor([1.0, -1.0, 0.5], dtype=f64, requires_grad=True)
    w = stepjit.tensor([[1.0, 0.2], [0.5, -0.4], [0.0, 0.9]], dtype=f64, requires_grad=True)
    d = stepjit.tensor([0.3, 0.5, 0.2], dtype=f64, requires_grad=True)
    m = D.LowRankMultivariateNormal(loc, w, d)
    x = m.rsample((40000,))
    np.testing.assert_allclose(np.cov(x.detach().numpy().T),
                               m.covariance_matrix.detach().numpy(), atol=0.03)
    x.mean().backward()
    assert loc.grad is not None and w.grad is not None and d.grad is not None


def test_lowrank_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 3"):
        D.LowRankMultivariateNormal(stepjit.zeros(3), stepjit.ones(2, 1), stepjit.ones(3))
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        D.LowRankMultivariateNormal(stepjit.zeros(3), stepjit.ones(3, 1), stepjit.ones(2))
