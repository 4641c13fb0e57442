"""Gamma, Beta, Dirichlet and MultivariateNormal sampling (moments against the law, compiled
steps drawing the eager numbers, rsample's gradients) and their errors on bad input. Their
densities, entropies, moments and KL divergences are in cases.py, against PyTorch."""
import numpy as np
import pytest

import stepjit
from stepjit.distributions import Beta, Dirichlet, Gamma, MultivariateNormal

N = 20000


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.5])
def test_gamma_samples_follow_the_law(alpha):
    stepjit.manual_seed(5)
    rate = 2.0
    x = Gamma(stepjit.tensor([alpha], dtype=stepjit.float64),
              stepjit.tensor([rate], dtype=stepjit.float64)).sample((N,)).numpy()[:, 0]
    assert (x > 0).all()
    np.testing.assert_allclose(x.mean(), alpha / rate, rtol=0.03)
    np.testing.assert_allclose(x.var(), alpha / rate ** 2, rtol=0.06)
    # beyond two moments: the third central moment is 2 alpha / rate^3
    np.testing.assert_allclose(((x - x.mean()) ** 3).mean(), 2 * alpha / rate ** 3, rtol=0.2)


def test_beta_and_dirichlet_samples_follow_the_law():
    stepjit.manual_seed(6)
    b = Beta(stepjit.tensor(2.0), stepjit.tensor(5.0)).sample((N,)).numpy()
    assert ((b > 0) & (b < 1)).all()
    np.testing.assert_allclose(b.mean(), 2 / 7, rtol=0.02)
    np.testing.assert_allclose(b.var(), 2 * 5 / (49 * 8), rtol=0.06)
    a = np.array([0.5, 2.0, 3.5])
    d = Dirichlet(stepjit.tensor(a)).sample((N,)).numpy()
    np.testing.assert_allclose(d.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(d.mean(0), a / a.sum(), atol=0.01)


def test_multivariate_normal_samples_have_the_covariance():
    stepjit.manual_seed(7)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    loc = np.array([1.0, -1.0, 0.5])
    x = MultivariateNormal(stepjit.tensor(loc), covariance_matrix=stepjit.tensor(cov)
                           ).sample((N,)).numpy()
    np.testing.assert_allclose(x.mean(0), loc, atol=0.04)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)


def test_mvn_rsample_gradient_is_the_reparameterization():
    loc = stepjit.tensor([0.5, -1.0], dtype=stepjit.float64, requires_grad=True)
    L = stepjit.tensor([[1.5, 0.0], [0.3, 0.8]], dtype=stepjit.float64, requires_grad=True)
    stepjit.manual_seed(9)
    x = MultivariateNormal(loc, scale_tril=L).rsample((4,))
    stepjit.manual_seed(9)
    eps = stepjit.randn(4, 2, dtype=stepjit.float64).numpy()
    np.testing.assert_allclose(x.detach().numpy(), loc.detach().numpy() + eps @ L.detach().numpy().T)
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0])
    # d(sum L eps)/dL_ij = sum eps_j: every entry, the upper triangle too, as in PyTorch
    np.testing.assert_allclose(L.grad.numpy(), np.outer([1, 1], eps.sum(0)), atol=1e-12)


def test_gamma_rsample_gradient_through_rate_and_refused_through_concentration():
    rate = stepjit.tensor([2.0, 0.5], dtype=stepjit.float64, requires_grad=True)
    conc = stepjit.tensor([3.0, 1.5], dtype=stepjit.float64)
    x = Gamma(conc, rate).rsample((3,))
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), -(x.detach().numpy() / rate.detach().numpy()).sum(0))
    with pytest.raises(NotImplementedError, match="concentration"):
        Gamma(conc.clone().requires_grad_(), rate).rsample()
    with pytest.raises(NotImplementedError, match="concentration"):
        Dirichlet(conc.clone().requires_grad_()).rsample()


def test_compiled_steps_draw_the_eager_numbers():
    def step(a, loc, cov):
        g = Gamma(a, 1.5).sample((3,))
        d = Dirichlet(a).sample()
        m = MultivariateNormal(loc, covariance_matrix=cov).sample((2,))
        return g, d, m

    a = stepjit.tensor([0.4, 2.0, 7.0], dtype=stepjit.float64)
    loc = stepjit.zeros(2, dtype=stepjit.float64)
    cov = stepjit.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=stepjit.float64)
    compiled = stepjit.compile(step, backend="cpu")
    for seed in (1, 2):
        stepjit.manual_seed(seed)
        want = step(a, loc, cov)
        stepjit.manual_seed(seed)
        got = compiled(a, loc, cov)
        for w, g in zip(want, got):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    assert compiled.stats()["fallbacks"] == 0


def test_bad_parameters_raise_pytorchs_errors():
    with pytest.raises(ValueError, match="concentration"):
        Gamma(stepjit.tensor([-1.0]), stepjit.tensor([1.0]))
    with pytest.raises(ValueError, match="support"):
        Beta(stepjit.tensor(2.0), stepjit.tensor(2.0)).log_prob(stepjit.tensor(1.5))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Dirichlet(stepjit.tensor(1.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        MultivariateNormal(stepjit.zeros(2), covariance_matrix=stepjit.eye(2),
                           scale_tril=stepjit.eye(2))
    with pytest.raises(ValueError, match="does not match loc"):
        MultivariateNormal(stepjit.zeros(2), covariance_matrix=stepjit.eye(3))
    with pytest.raises(RuntimeError, match="not positive-definite"):
        MultivariateNormal(stepjit.zeros(2), covariance_matrix=stepjit.tensor([[1.0, 2.0],
                                                                                [2.0, 1.0]]))
