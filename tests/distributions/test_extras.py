"""HalfCauchy, InverseGamma, Kumaraswamy, ContinuousBernoulli and
OneHotCategoricalStraightThrough
(tests/distributions/cases_extras.py) against PyTorch's recorded values and gradients, finite
differences and a live PyTorch where installed; samples from their distributions."""
from pathlib import Path

import numpy as np

import stepjit
from stepjit import distributions as D
from tests.distributions.cases_extras import CASES
from tests.fixtures import checks


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "distribution_extras" / \
        "torch_distribution_extras.npz"

    def by_differences(self, case):
        """(HalfCauchy's table has a -inf log_prob and infinite moments; the straight-through
        sample is random: the recording checks those.)"""
        return case.name in ("inverse_gamma", "kumaraswamy")


def test_samples_follow_their_distributions():
    stepjit.manual_seed(0)
    n = (20000,)
    half = D.HalfCauchy(stepjit.tensor(2.0, dtype=stepjit.float64)).sample(n)
    assert float(half.min()) >= 0 and abs(float(half.median()) - 2.0) < 0.1
    inv = D.InverseGamma(stepjit.tensor(5.0, dtype=stepjit.float64), 2.0).rsample(n)
    assert abs(float(inv.mean()) - 0.5) < 0.01          # rate / (concentration - 1)
    k = D.Kumaraswamy(stepjit.tensor(2.0, dtype=stepjit.float64), 3.0)
    draws = k.rsample(n)
    assert 0 < float(draws.min()) and float(draws.max()) < 1
    assert abs(float(draws.mean()) - float(k.mean)) < 0.01
    cb = D.ContinuousBernoulli(stepjit.tensor([0.2, 0.5, 0.8], dtype=stepjit.float64))
    draws = cb.rsample(n)
    assert 0 <= float(draws.min()) and float(draws.max()) <= 1
    np.testing.assert_allclose(draws.mean(0).numpy(), cb.mean.numpy(), atol=0.01)
    st = D.OneHotCategoricalStraightThrough(probs=stepjit.tensor([0.2, 0.8]))
    one_hot = st.rsample((1000,))
    assert set(one_hot.sum(-1).tolist()) == {1.0}
    assert abs(float(one_hot[:, 1].mean()) - 0.8) < 0.05


def test_kumaraswamy_mode_is_the_density_maximum():
    """PyTorch 2.13's Kumaraswamy.mode is NaN for b > 1 (it takes log1p(-b)); stepjit gives
    ((a - 1) / (a b - 1))^(1/a), checked here against the density's maximum on a grid."""
    k = D.Kumaraswamy(stepjit.tensor([2.0, 3.5], dtype=stepjit.float64),
                      stepjit.tensor([3.0, 1.5], dtype=stepjit.float64))
    grid = stepjit.linspace(0.001, 0.999, 9999, dtype=stepjit.float64).unsqueeze(-1)
    best = grid[k.log_prob(grid).argmax(0), 0]
    np.testing.assert_allclose(k.mode.numpy(), best.numpy(), atol=2e-4)
    assert np.isnan(D.Kumaraswamy(0.5, 2.0).mode.item())
