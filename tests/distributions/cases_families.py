"""The distributions beyond the training-script core (Multinomial, Binomial, Poisson,
Geometric, Exponential, Laplace, Cauchy, Gumbel, HalfNormal, Chi2, StudentT) against
PyTorch: densities, entropies, moments, cdfs and KL divergences with their gradients, one
table recorded by tests/fixtures/record_distribution_families.py. Sampling is checked by
test_families_sampling.py (stepjit's generator, not PyTorch's)."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(2113)


def r(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def unit(*shape):
    return RNG.uniform(0.1, 0.9, shape)


def simplex(*shape):
    p = RNG.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def counts(high, *shape):
    return RNG.integers(0, high + 1, shape).astype(np.float64)


def D(T):
    return T.distributions


def moments(d):
    return (d.mean, d.variance, d.entropy())


def kl(T, p, q):
    return D(T).kl_divergence(p, q)


CASES = [
    # -- discrete --------------------------------------------------------------------------
    Case("multinomial_probs", lambda T, p, v: (lambda d: (d.log_prob(v), d.mean, d.variance,
                                                          d.entropy(), d.probs))(
        D(T).Multinomial(6, probs=p)), simplex(2, 3),
         np.array([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]]), grad=(0,)),
    Case("multinomial_logits_log_prob_only", lambda T, x, v: (lambda d: (d.log_prob(v),
                                                                         d.logits))(
        D(T).Multinomial(logits=x, validate_args=False)), r(4) * 2, np.array([[0.0, 3.0, 1.0, 5.0],
                                                         [2.0, 2.0, 2.0, 2.0]]), grad=(0,)),
    Case("binomial_probs", lambda T, p, v: (lambda d: (d.log_prob(v), d.mode, d.logits)
                                            + moments(d))(D(T).Binomial(5, probs=p)),
         unit(3), np.array([[0.0, 5.0, 2.0], [3.0, 1.0, 4.0]]), grad=(0,), compiled=True),
    Case("binomial_logits_counts", lambda T, n, x, v: (lambda d: (d.log_prob(v), d.mean,
                                                                  d.variance))(
        D(T).Binomial(n, logits=x)), np.array([[4.0], [9.0]]), r(3) * 3,
         np.array([[0.0, 4.0, 2.0], [9.0, 3.0, 0.0]]), grad=(1,)),
    Case("binomial_support", lambda T, p: (lambda d: (d.enumerate_support(),
                                                      d.enumerate_support(expand=False)))(
        D(T).Binomial(3, probs=p)), unit(2), grad=()),
    Case("poisson", lambda T, rate, v: (lambda d: (d.log_prob(v), d.mode) + (d.mean,
                                                                              d.variance))(
        D(T).Poisson(rate)), pos(3) * 3, counts(7, 2, 3), grad=(0,)),
    Case("poisson_zero_rate", lambda T, rate, v: D(T).Poisson(rate).log_prob(v),
         np.array([0.0, 1.5]), np.array([0.0, 2.0]), grad=()),
    Case("geometric_probs", lambda T, p, v: (lambda d: (d.log_prob(v), d.logits)
                                             + moments(d))(D(T).Geometric(p)),
         unit(3), counts(6, 2, 3), grad=(0,)),
    Case("geometric_logits", lambda T, x, v: (lambda d: (d.log_prob(v), d.probs) + moments(d))(
        D(T).Geometric(logits=x)), r(3), counts(4, 3), grad=(0,)),
    Case("geometric_certain", lambda T, p, v: D(T).Geometric(p).log_prob(v),
         np.array([1.0, 0.5]), np.array([0.0, 2.0]), grad=()),
    # -- continuous ------------------------------------------------------------------------
    Case("exponential", lambda T, rate, x: (lambda d: (
        d.log_prob(x), d.cdf(x), d.icdf(T.sigmoid(x)), d.stddev) + moments(d))(
        D(T).Exponential(rate)), pos(3), pos(2, 3)),
    Case("constant_modes", lambda T, p, rate, s: (
        D(T).Geometric(p).mode, D(T).Exponential(rate).mode, D(T).HalfNormal(s).mode),
         unit(3), pos(3), pos(3), grad=()),
    Case("laplace", lambda T, loc, s, x: (lambda d: (
        d.log_prob(x), d.cdf(x), d.icdf(T.sigmoid(x)), d.mode, d.stddev) + moments(d))(
        D(T).Laplace(loc, s)), r(3), pos(3), r(2, 3)),
    Case("cauchy", lambda T, loc, s, x: (lambda d: (
        d.log_prob(x), d.cdf(x), d.icdf(T.sigmoid(x)), d.mode, d.entropy()))(
        D(T).Cauchy(loc, s)), r(3), pos(3), r(2, 3)),
    Case("cauchy_moments", lambda T, loc: (lambda d: (d.mean, d.variance))(
        D(T).Cauchy(loc, 1.0)), r(2), grad=()),
    Case("gumbel", lambda T, loc, s, x: (lambda d: (d.log_prob(x), d.mode, d.stddev)
                                         + moments(d))(D(T).Gumbel(loc, s)),
         r(3), pos(3), r(2, 3)),
    Case("half_normal", lambda T, s, x: (lambda d: (d.log_prob(x), d.cdf(x))
                                         + moments(d))(D(T).HalfNormal(s)), pos(3), pos(2, 3)),
    Case("chi2", lambda T, df, x: (lambda d: (d.log_prob(x), d.df) + moments(d))(
        D(T).Chi2(df)), pos(3) * 2, pos(2, 3)),
    Case("student_t", lambda T, df, loc, s, x: (lambda d: (d.log_prob(x), d.mode, d.mean,
                                                           d.entropy()))(
        D(T).StudentT(df, loc, s)), pos(3) * 3, r(3), pos(3), r(2, 3), compiled=True),
    Case("student_t_moments", lambda T, df: (lambda d: (d.mean, d.variance))(
        D(T).StudentT(df)), np.array([0.5, 1.0, 1.5, 2.0, 3.0, 7.0])),
    Case("numbers_make_scalar_distributions", lambda T, x: (
        D(T).Exponential(2.0).log_prob(x), D(T).Laplace(0.5, 2.0).log_prob(x),
        D(T).Gumbel(0.0, 1.5).log_prob(x), D(T).HalfNormal(2.0).log_prob(x.abs()),
        D(T).Cauchy(1.0, 0.5).log_prob(x), D(T).Poisson(2.5).log_prob(x.abs().floor())),
         pos(4), tol=1e-6),   # (number parameters are default-dtype tensors: float32 here)
    # -- KL divergences, same family -----------------------------------------------------
    Case("kl_binomial", lambda T, p, q: kl(T, D(T).Binomial(4, p), D(T).Binomial(4, q)),
         unit(3), unit(3)),
    Case("kl_binomial_larger_p_count", lambda T, p, q: kl(
        T, D(T).Binomial(T.tensor([5.0, 4.0]), p), D(T).Binomial(4, q)), unit(2), unit(2)),
    Case("kl_poisson", lambda T, a, b: kl(T, D(T).Poisson(a), D(T).Poisson(b)), pos(3), pos(3)),
    Case("kl_geometric", lambda T, a, b: kl(T, D(T).Geometric(a), D(T).Geometric(b)),
         unit(3), unit(3)),
    Case("kl_exponential", lambda T, a, b: kl(T, D(T).Exponential(a), D(T).Exponential(b)),
         pos(3), pos(3)),
    Case("kl_laplace", lambda T, a, b, c, e: kl(T, D(T).Laplace(a, b), D(T).Laplace(c, e)),
         r(3), pos(3), r(3), pos(3)),
    Case("kl_cauchy", lambda T, a, b, c, e: kl(T, D(T).Cauchy(a, b), D(T).Cauchy(c, e)),
         r(3), pos(3), r(3), pos(3)),
    Case("kl_gumbel", lambda T, a, b, c, e: kl(T, D(T).Gumbel(a, b), D(T).Gumbel(c, e)),
         r(3), pos(3), r(3), pos(3)),
    Case("kl_half_normal", lambda T, a, b: kl(T, D(T).HalfNormal(a), D(T).HalfNormal(b)),
         pos(3), pos(3)),
    Case("kl_chi2", lambda T, a, b: kl(T, D(T).Chi2(a), D(T).Chi2(b)), pos(3) * 2, pos(3) * 2),
    Case("kl_uniform", lambda T, lo, hi: kl(T, D(T).Uniform(lo, hi),
                                            D(T).Uniform(lo - 0.5, hi + T.tensor([1.0, -0.5]))),
         np.array([0.0, 1.0]), np.array([1.0, 3.0])),
    # -- KL divergences across families --------------------------------------------------
    Case("kl_exponential_gamma_gumbel_normal", lambda T, rate, a, b, loc, s: (
        kl(T, D(T).Exponential(rate), D(T).Gamma(a, b)),
        kl(T, D(T).Exponential(rate), D(T).Gumbel(loc, s)),
        kl(T, D(T).Exponential(rate), D(T).Normal(loc, s))),
         pos(3), pos(3), pos(3), r(3), pos(3)),
    Case("kl_gamma_exponential_gumbel_normal", lambda T, a, b, rate, loc, s: (
        kl(T, D(T).Gamma(a, b), D(T).Exponential(rate)),
        kl(T, D(T).Gamma(a, b), D(T).Gumbel(loc, s)),
        kl(T, D(T).Gamma(a, b), D(T).Normal(loc, s))),
         pos(3), pos(3), pos(3), r(3), pos(3)),
    Case("kl_beta_exponential_gamma_normal_uniform", lambda T, a, b, rate, c, loc, s: (
        kl(T, D(T).Beta(a, b), D(T).Exponential(rate)),
        kl(T, D(T).Beta(a, b), D(T).Gamma(c, rate)),
        kl(T, D(T).Beta(a, b), D(T).Normal(loc, s)),
        kl(T, D(T).Beta(a, b), D(T).Uniform(loc - 3.0, T.tensor([3.0, 0.5, 4.0])))),
         pos(3), pos(3), pos(3), pos(3), r(3), pos(3)),
    Case("kl_normal_laplace_gumbel", lambda T, a, b, c, e: (
        kl(T, D(T).Normal(a, b), D(T).Laplace(c, e)), kl(T, D(T).Normal(a, b), D(T).Gumbel(c, e)),
        kl(T, D(T).Laplace(a, b), D(T).Normal(c, e)), kl(T, D(T).Gumbel(a, b), D(T).Normal(c, e))),
         r(3), pos(3), r(3), pos(3)),
    Case("kl_uniform_to_others", lambda T, lo, w, a, b, loc, s: (
        kl(T, D(T).Uniform(lo, lo + w), D(T).Beta(a, b)),
        kl(T, D(T).Uniform(lo, lo + w), D(T).Exponential(a)),
        kl(T, D(T).Uniform(lo, lo + w), D(T).Gamma(a, b)),
        kl(T, D(T).Uniform(lo, lo + w), D(T).Gumbel(loc, s)),
        kl(T, D(T).Uniform(lo, lo + w), D(T).Normal(loc, s))),
         np.array([0.1, 0.3, -0.2]), np.array([0.5, 0.6, 0.4]), pos(3), pos(3), r(3), pos(3),
         grad=(2, 3, 4, 5)),
    Case("kl_bernoulli_poisson", lambda T, p, rate: kl(T, D(T).Bernoulli(p), D(T).Poisson(rate)),
         unit(3), pos(3)),
    Case("kl_infinite_pairs", lambda T, loc, s, rate: (
        kl(T, D(T).Normal(loc, s), D(T).Exponential(rate)),
        kl(T, D(T).Laplace(loc, s), D(T).Gamma(rate, rate)),
        kl(T, D(T).Gumbel(loc, s), D(T).Uniform(loc - 1, loc + 1)),
        kl(T, D(T).Exponential(rate), D(T).Uniform(0.0, 2.0)),
        kl(T, D(T).Poisson(rate), D(T).Binomial(3, probs=T.sigmoid(loc)))),
         r(3), pos(3), pos(3), grad=()),
]

# -- relaxed distributions and transforms ------------------------------------------------------
CASES += [
    Case("relaxed_bernoulli", lambda T, temp, x, v: (lambda d: (d.log_prob(v), d.probs))(
        D(T).RelaxedBernoulli(temp, logits=x)), np.array(0.7), r(3), unit(2, 3)),
    Case("logit_relaxed_bernoulli", lambda T, temp, p, v: D(T).relaxed_bernoulli
         .LogitRelaxedBernoulli(temp, probs=p).log_prob(v), np.array(1.3), unit(3), r(3)),
    Case("relaxed_one_hot_categorical", lambda T, temp, x, v: D(T).RelaxedOneHotCategorical(
        temp, logits=x).log_prob(v), np.array(0.6), r(2, 4), simplex(2, 4), grad=(0, 1)),
    Case("exp_relaxed_categorical", lambda T, temp, p, v: D(T).relaxed_categorical
         .ExpRelaxedCategorical(temp, probs=p).log_prob(v), np.array(1.5), simplex(3),
         np.log(simplex(2, 3))),
    Case("transformed_exp_is_lognormal", lambda T, loc, s, x: (lambda d: (
        d.log_prob(x), d.cdf(x)))(D(T).TransformedDistribution(
            D(T).Normal(loc, s), [D(T).ExpTransform()])), r(3), pos(3), pos(2, 3)),
    Case("transformed_uniform_icdf", lambda T, lo, w, u: (lambda d: (
        d.icdf(u), d.cdf(d.icdf(u)), d.log_prob(d.icdf(u))))(D(T).TransformedDistribution(
            D(T).Uniform(lo, lo + w), [D(T).ExpTransform(), D(T).AffineTransform(1.0, -3.0)])),
         r(3), pos(3), unit(2, 3)),
    Case("transformed_affine_sigmoid", lambda T, a, b, loc, x: (lambda d: (
        d.log_prob(x), d.cdf(x)))(D(T).TransformedDistribution(
            D(T).Normal(loc, 1.0), [D(T).AffineTransform(a, b), D(T).SigmoidTransform()])),
         r(3), pos(3), r(3), unit(2, 3)),
    Case("transformed_tanh_negative_scale", lambda T, loc, s, x: (lambda d: (
        d.log_prob(x), d.cdf(x)))(D(T).TransformedDistribution(
            D(T).Normal(loc, s), [D(T).AffineTransform(0.5, -2.0),
                                  D(T).TanhTransform(cache_size=1)])),
         r(3), pos(3), RNG.uniform(-0.9, 0.9, (2, 3))),
    Case("transformed_power_inverse_compose", lambda T, c, x: D(T).TransformedDistribution(
        D(T).Gamma(c, 1.0), [D(T).ComposeTransform([D(T).PowerTransform(2.0),
                                                    D(T).ExpTransform().inv])]).log_prob(x),
         pos(3), r(2, 3)),
    Case("transformed_affine_event_dim", lambda T, loc, s, x: (lambda d: d.log_prob(x))(
        D(T).TransformedDistribution(D(T).Independent(D(T).Normal(loc, 1.0), 1),
                                     D(T).AffineTransform(0.0, s, event_dim=1))),
         r(2, 3), pos(3), r(4, 2, 3)),
    Case("transforms_direct", lambda T, x: (
        D(T).SigmoidTransform().log_abs_det_jacobian(x, T.sigmoid(x)),
        D(T).TanhTransform().log_abs_det_jacobian(x, T.tanh(x)),
        D(T).TanhTransform().inv(T.tanh(x) * 0.9), D(T).SoftmaxTransform()(x),
        D(T).AbsTransform()(x), D(T).ExpTransform().inv.log_abs_det_jacobian(T.exp(x), x)),
         r(2, 3)),
    Case("kl_transformed", lambda T, a, b, c, e: kl(
        T, D(T).TransformedDistribution(D(T).Normal(a, b), [D(T).ExpTransform()]),
        D(T).TransformedDistribution(D(T).Normal(c, e), [D(T).ExpTransform()])),
         r(3), pos(3), r(3), pos(3)),
]

# -- expand ----------------------------------------------------------------------------------
CASES += [
    Case("expand_leaf_families", lambda T, loc, s, p, x: (
        D(T).Normal(loc, s).expand((2, 3)).log_prob(x),
        D(T).Laplace(loc, s).expand((2, 3)).entropy(),
        D(T).Categorical(probs=p).expand((2, 3)).log_prob(T.tensor([[0, 1, 2], [2, 1, 0]])),
        D(T).Poisson(s).expand((4, 3)).mean, D(T).Binomial(4, p[..., 0]).expand((2, 3)).variance),
         r(3), pos(3), simplex(3, 3), r(2, 3), grad=(0, 1, 2)),
    Case("expand_composites", lambda T, a, b, df, x: (
        D(T).Beta(a, b).expand((2, 3)).log_prob(x.sigmoid()),
        D(T).StudentT(df).expand((2, 3)).log_prob(x),
        D(T).Independent(D(T).Normal(a, b), 1).expand((2,)).log_prob(x),
        D(T).HalfNormal(b).expand((2, 3)).log_prob(x.abs()),
        D(T).Multinomial(3, probs=T.stack([a, b], -1)).expand((4, 3)).log_prob(
            T.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 3.0]], dtype=a.dtype).expand(4, 3, 2))),
         pos(3), pos(3), pos(3) * 3, r(2, 3), grad=(0, 1, 2)),
    Case("expand_mvn", lambda T, loc, m, x: D(T).MultivariateNormal(
        loc, covariance_matrix=m @ m.mT + 3 * T.eye(3, dtype=m.dtype)).expand((4,)).log_prob(x),
         r(3), r(3, 3), r(4, 3)),
    Case("transformed_broadcasting_affine", lambda T, loc, s, x: D(T).TransformedDistribution(
        D(T).Normal(0.0, 1.0), [D(T).AffineTransform(loc, s)]).log_prob(x), r(3), pos(3), r(2, 3)),
]

# -- MixtureSameFamily ------------------------------------------------------------------------
CASES += [
    Case("gaussian_mixture", lambda T, w, loc, s, x: (lambda d: (
        d.log_prob(x), d.cdf(x), d.mean, d.variance))(D(T).MixtureSameFamily(
            D(T).Categorical(logits=w), D(T).Normal(loc, s))), r(4), r(4), pos(4), r(3)),
    Case("mixture_density_network_loss", lambda T, w, loc, s, y: -D(T).MixtureSameFamily(
        D(T).Categorical(logits=w), D(T).Independent(D(T).Normal(loc, s), 1)).log_prob(y).mean(),
         r(6, 3), r(6, 3, 2), pos(6, 3, 2), r(6, 2), compiled=True),
    Case("mixture_broadcast_weights", lambda T, w, loc, s, x: (lambda d: (
        d.log_prob(x), d.mean, d.variance))(D(T).MixtureSameFamily(
            D(T).Categorical(probs=w), D(T).Independent(D(T).Normal(loc, s), 1))),
         simplex(3), r(2, 3, 2), pos(2, 3, 2), r(4, 2, 2)),
]

# -- Pareto, Weibull, NegativeBinomial -----------------------------------------------------
CASES += [
    Case("pareto", lambda T, s, a, x: (lambda d: (d.log_prob(x), d.mode) + moments(d))(
        D(T).Pareto(s, a)), pos(3), pos(3) + 2.5, pos(2, 3) + 2.0),
    Case("weibull", lambda T, s, k, x: (lambda d: (d.log_prob(x), d.mode, d.cdf(x))
                                        + moments(d))(D(T).Weibull(s, k)),
         pos(3), pos(3) + 0.6, pos(2, 3)),
    Case("negative_binomial_probs", lambda T, n, p, v: (lambda d: (
        d.log_prob(v), d.mean, d.variance, d.mode))(D(T).NegativeBinomial(n, probs=p)),
         pos(3) * 3, unit(3), counts(8, 2, 3), grad=(0, 1)),
    Case("negative_binomial_logits", lambda T, n, x, v: D(T).NegativeBinomial(
        n, logits=x).log_prob(v), pos(3) * 2, r(3), counts(5, 3), grad=(0, 1)),
]

CASES += [
    Case("kl_independent_normal", lambda T, a, b, c, e: kl(
        T, D(T).Independent(D(T).Normal(a, b), 1), D(T).Independent(D(T).Normal(c, e), 1)),
         r(2, 3), pos(2, 3), r(2, 3), pos(2, 3)),
    Case("kl_pareto_pareto", lambda T, s, a, t, b: kl(T, D(T).Pareto(s, a), D(T).Pareto(t, b)),
         pos(3) + 1.0, pos(3), pos(3) * 0.5, pos(3)),
    Case("kl_pareto_to_others", lambda T, s, a, rate, c, loc: (
        kl(T, D(T).Pareto(s, a), D(T).Exponential(rate)),
        kl(T, D(T).Pareto(s, a), D(T).Gamma(c, rate)),
        kl(T, D(T).Pareto(s, a), D(T).Normal(loc, rate))),
         pos(3), pos(3) + 2.5, pos(3), pos(3), r(3)),
    Case("kl_uniform_pareto", lambda T, lo, w, s, a: kl(
        T, D(T).Uniform(lo, lo + w), D(T).Pareto(s, a)), pos(3) + 2.0, pos(3), pos(3), pos(3)),
    Case("kl_pareto_infinite_pairs", lambda T, s, a: (
        kl(T, D(T).Pareto(s, a), D(T).Uniform(0.0, 5.0)),
        kl(T, D(T).Exponential(a), D(T).Pareto(s, a)),
        kl(T, D(T).Normal(s, a), D(T).Pareto(s, a)),
        kl(T, D(T).Pareto(s, T.tensor([0.5, 1.5, 3.0], dtype=s.dtype)), D(T).Exponential(a))),
         pos(3), pos(3), grad=()),
    Case("normal_icdf", lambda T, loc, s, x: (
        D(T).Normal(loc, s).icdf(T.sigmoid(x)),
        D(T).TransformedDistribution(D(T).Normal(loc, s), D(T).ExpTransform()).icdf(
            T.sigmoid(x))), r(3), pos(3), r(2, 3)),
]


# Outputs that are infinite or NaN where supports differ or moments do not exist: a central
# difference is NaN there, so these gradients are checked against PyTorch's recorded ones only.
NOT_BY_DIFFERENCES = {"student_t_moments", "kl_binomial_larger_p_count", "kl_uniform",
                      "kl_beta_exponential_gamma_normal_uniform", "kl_uniform_to_others"}
