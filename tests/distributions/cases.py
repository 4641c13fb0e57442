"""Distributions checked against PyTorch: densities, entropies, moments, cdfs and KL
divergences with their gradients, one table recorded by tests/fixtures/record_distributions.py.
(Sampling draws from stepjit's generator, not PyTorch's: test_sampling.py checks it.)"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1819)


def simplex(*shape):
    p = RNG.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def r(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def D(T):
    return T.distributions


CASES = [
    Case("categorical_probs",
         lambda T, p, v: (lambda d: (d.log_prob(v), d.entropy(), d.probs, d.logits))(
             D(T).Categorical(probs=p)),
         simplex(4), np.array([0, 3, 2, 2])),
    Case("categorical_unnormalized_probs",
         lambda T, p, v: D(T).Categorical(p * 3.0).log_prob(v), simplex(2, 3),
         np.array([[2, 0], [1, 1], [0, 2]])),
    Case("categorical_logits_batched",
         lambda T, x, v: (lambda d: (d.log_prob(v), d.entropy(), d.probs))(
             D(T).Categorical(logits=x)),
         r(2, 3, 4) * 3, RNG.integers(0, 4, (5, 2, 3)).astype(np.int64)),
    Case("categorical_mode_support", lambda T, x: (lambda d: (
        d.mode, d.enumerate_support(), d.enumerate_support(expand=False)))(
        D(T).Categorical(logits=x)), r(2, 3), grad=()),
    Case("onehot_categorical", lambda T, x, v: (lambda d: (d.log_prob(v), d.entropy(), d.mean))(
        D(T).OneHotCategorical(logits=x)), r(2, 3),
         np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), grad=(0,)),
    Case("normal",
         lambda T, loc, scale, x: (lambda d: (d.log_prob(x), d.entropy(), d.cdf(x), d.mean,
                                              d.stddev, d.variance))(D(T).Normal(loc, scale)),
         r(3), pos(3), r(2, 3)),
    Case("normal_numbers", lambda T, x: D(T).Normal(T.tensor(0.5, dtype=T.float64), 2.0)
         .log_prob(x), r(4)),
    Case("normal_broadcast", lambda T, loc, x: D(T).Normal(loc, 1.5).log_prob(x), r(2, 1), r(3)),
    Case("independent_normal", lambda T, loc, scale, x: (lambda d: (
        d.log_prob(x), d.entropy(), d.mean))(D(T).Independent(D(T).Normal(loc, scale), 1)),
         r(3, 2), pos(3, 2), r(4, 3, 2), compiled=True),
    Case("lognormal", lambda T, loc, scale, x: (lambda d: (d.log_prob(x), d.entropy(), d.mean,
                                                           d.variance))(
        D(T).LogNormal(loc, scale)), r(3) * 0.3, pos(3) * 0.5, pos(3)),
    Case("bernoulli_probs", lambda T, p, v: (lambda d: (d.log_prob(v), d.entropy(), d.mean,
                                                        d.variance, d.logits))(
        D(T).Bernoulli(probs=p)), RNG.uniform(0.05, 0.95, 5), np.array([1.0, 0, 0, 1, 1]),
         grad=(0,)),
    Case("bernoulli_logits", lambda T, x, v: (lambda d: (d.log_prob(v), d.entropy(), d.probs))(
        D(T).Bernoulli(logits=x)), r(2, 3) * 4, np.array([[1.0, 0, 1], [0, 0, 1]]),
         grad=(0,)),
    Case("uniform", lambda T, lo, hi, x: (lambda d: (d.log_prob(x), d.entropy(), d.cdf(x),
                                                     d.mean, d.variance))(
        D(T).Uniform(lo, hi)), np.array([0.0, -1.0, 2.0]), np.array([1.0, 3.0, 2.5]),
         np.array([0.5, 0.0, 2.2])),
    Case("kl_normal_normal", lambda T, a, b, c, d: D(T).kl_divergence(
        D(T).Normal(a, b), D(T).Normal(c, d)), r(3), pos(3), r(3), pos(3)),
    Case("kl_categorical", lambda T, x, y: D(T).kl_divergence(
        D(T).Categorical(logits=x), D(T).Categorical(logits=y)), r(2, 4), r(2, 4)),
    Case("kl_bernoulli", lambda T, p, q: D(T).kl_divergence(
        D(T).Bernoulli(probs=p), D(T).Bernoulli(probs=q)), RNG.uniform(0.1, 0.9, 3),
         RNG.uniform(0.1, 0.9, 3)),
    Case("policy_gradient_loss",   # REINFORCE's loss: -log_prob(action) * return, summed
         lambda T, x, a, g: -(D(T).Categorical(logits=x).log_prob(a) * g).sum(),
         r(6, 3), np.array([0, 2, 1, 1, 0, 2]), r(6), grad=(0,), compiled=True),
    Case("gaussian_policy_loss",
         lambda T, mu, s, a, g: -(D(T).Normal(mu, s).log_prob(a).sum(-1) * g).mean()
         - 0.01 * D(T).Normal(mu, s).entropy().mean(),
         r(4, 2), pos(4, 2), r(4, 2), r(4), grad=(0, 1), compiled=True),
]


def spd(T, x):
    return x @ x.mT + x.shape[-1] * T.eye(x.shape[-1], dtype=x.dtype)


def moments(d):
    return (d.mean, d.variance, d.entropy())


CASES += [
    # -- the gamma family (lgamma and digamma) ---------------------------------------------
    Case("gamma", lambda T, a, b, x: (lambda d: (d.log_prob(x), d.mode) + moments(d))(
        D(T).Gamma(a, b)), pos(3) * 2, pos(3), pos(2, 3), compiled=True),
    Case("gamma_small_concentration", lambda T, a, x: (lambda d: (d.log_prob(x),) + moments(d))(
        D(T).Gamma(a, 2.0)), RNG.uniform(0.2, 0.9, 4), pos(4)),
    Case("beta", lambda T, a, b, x: (lambda d: (d.log_prob(x),) + moments(d))(
        D(T).Beta(a, b)), pos(3) * 2, pos(3) * 2, RNG.uniform(0.05, 0.95, (2, 3))),
    Case("dirichlet", lambda T, a, x: (lambda d: (d.log_prob(x), d.mode) + moments(d))(
        D(T).Dirichlet(a)), pos(2, 3) * 2, simplex(2, 3), grad=(0,)),   # (value: a simplex)
    Case("kl_gamma_gamma", lambda T, a, b, c, d: D(T).kl_divergence(
        D(T).Gamma(a, b), D(T).Gamma(c, d)), pos(3), pos(3), pos(3), pos(3)),
    Case("kl_beta_beta", lambda T, a, b, c, d: D(T).kl_divergence(
        D(T).Beta(a, b), D(T).Beta(c, d)), pos(3), pos(3), pos(3), pos(3)),
    Case("kl_dirichlet_dirichlet", lambda T, a, b: D(T).kl_divergence(
        D(T).Dirichlet(a), D(T).Dirichlet(b)), pos(2, 4), pos(2, 4)),
    # -- MultivariateNormal (cholesky) -------------------------------------------------------
    Case("mvn_covariance", lambda T, loc, m, x: (lambda d: (
        d.log_prob(x), d.scale_tril, d.precision_matrix) + moments(d))(
        D(T).MultivariateNormal(loc, covariance_matrix=spd(T, m))), r(3), r(3, 3), r(4, 3),
         compiled=True),
    Case("mvn_scale_tril_batched", lambda T, loc, m, x: (lambda d: (
        d.log_prob(x), d.covariance_matrix) + moments(d))(
        D(T).MultivariateNormal(loc, scale_tril=T.linalg.cholesky(spd(T, m)))),
         r(2, 3), r(3, 3), r(5, 2, 3)),
    Case("mvn_precision", lambda T, loc, m, x: (lambda d: (
        d.log_prob(x), d.covariance_matrix) + moments(d))(
        D(T).MultivariateNormal(loc, precision_matrix=spd(T, m))), r(2), r(2, 2), r(3, 2)),
    Case("kl_mvn_mvn", lambda T, a, m, b, n: D(T).kl_divergence(
        D(T).MultivariateNormal(a, covariance_matrix=spd(T, m)),
        D(T).MultivariateNormal(b, scale_tril=T.linalg.cholesky(spd(T, n)))),
         r(2, 3), r(3, 3), r(3), r(3, 3)),
]
