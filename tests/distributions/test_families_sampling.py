"""Sampling of Multinomial, Binomial, Poisson, Geometric, Exponential, Laplace, Cauchy, Gumbel,
HalfNormal, Chi2 and StudentT: moments of seeded draws against the law, the support, rsample's
gradients (the reparameterization), and compiled steps drawing the eager numbers."""
import math

import numpy as np
import pytest

import stepjit
from stepjit import distributions as D

N = 20000
f64 = stepjit.float64


def t(x):
    return stepjit.tensor(x, dtype=f64)


def draws(d, seed, n=N):
    stepjit.manual_seed(seed)
    return d.sample((n,)).numpy()


LAWS = [   # distribution, mean, variance (of the law)
    ("binomial", lambda: D.Binomial(12, t([0.3])), 12 * 0.3, 12 * 0.3 * 0.7),
    ("binomial_extreme", lambda: D.Binomial(40, t([0.97])), 40 * 0.97, 40 * 0.97 * 0.03),
    ("poisson", lambda: D.Poisson(t([3.5])), 3.5, 3.5),
    ("geometric", lambda: D.Geometric(t([0.25])), 3.0, 12.0),
    ("exponential", lambda: D.Exponential(t([2.0])), 0.5, 0.25),
    ("laplace", lambda: D.Laplace(t([1.0]), t([0.5])), 1.0, 0.5),
    ("gumbel", lambda: D.Gumbel(t([0.5]), t([2.0])), 0.5 + 2 * 0.5772156649,
     (math.pi * 2) ** 2 / 6),
    ("half_normal", lambda: D.HalfNormal(t([1.5])), 1.5 * math.sqrt(2 / math.pi),
     1.5 ** 2 * (1 - 2 / math.pi)),
    ("chi2", lambda: D.Chi2(t([3.0])), 3.0, 6.0),
    ("student_t", lambda: D.StudentT(t([6.0]), t([1.0]), t([2.0])), 1.0, 4.0 * 6 / 4),
    ("pareto", lambda: D.Pareto(t([2.0]), t([6.0])), 6 * 2 / 5, 4 * 6 / (25 * 4)),
    ("weibull", lambda: D.Weibull(t([2.0]), t([1.5])), 2 * math.gamma(1 + 1 / 1.5),
     4 * (math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2)),
    ("negative_binomial", lambda: D.NegativeBinomial(t([4.0]), probs=t([0.4])), 4 * 0.4 / 0.6,
     4 * 0.4 / 0.36),
]


@pytest.mark.parametrize("name,make,mean,var", LAWS, ids=[c[0] for c in LAWS])
def test_samples_follow_the_law(name, make, mean, var):
    x = draws(make(), seed=11)[:, 0]
    d = make()
    assert bool(d.support.check(stepjit.tensor(x)).all()) if d.support is not None else True
    # 5 standard errors of the mean; the variance within 8% (n = 20000)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / N), (x.mean(), mean)
    np.testing.assert_allclose(x.var(), var, rtol=0.08)


def test_discrete_draws_are_integers_with_the_pmf():
    x = draws(D.Binomial(4, t([0.4])), seed=3)[:, 0]
    assert set(np.unique(x)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    pmf = [math.comb(4, k) * 0.4 ** k * 0.6 ** (4 - k) for k in range(5)]
    np.testing.assert_allclose(np.bincount(x.astype(int), minlength=5) / N, pmf, atol=0.012)
    y = draws(D.Poisson(t([1.2])), seed=4)[:, 0]
    pmf = [math.exp(-1.2) * 1.2 ** k / math.factorial(k) for k in range(4)]
    np.testing.assert_allclose(np.bincount(y.astype(int))[:4] / N, pmf, atol=0.012)


def test_binomial_edges_and_per_element_counts():
    stepjit.manual_seed(0)
    x = D.Binomial(t([[3.0], [7.0]]), t([0.0, 1.0, 0.5])).sample((500,)).numpy()
    assert (x[:, :, 0] == 0).all() and (x[:, :, 1] == [3.0, 7.0]).all()
    assert (x[:, 0, 2] <= 3).all() and (x[:, 1, 2] <= 7).all()
    np.testing.assert_allclose(x[:, 1, 2].mean(), 3.5, atol=0.3)


def test_multinomial_counts_sum_to_the_total_with_the_probs():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    stepjit.manual_seed(5)
    x = D.Multinomial(10, t(probs)).sample((N // 4,)).numpy()
    assert x.shape == (N // 4, 4) and (x.sum(-1) == 10).all()
    np.testing.assert_allclose(x.mean(0), 10 * probs, atol=0.06)
    np.testing.assert_allclose(x.var(0), 10 * probs * (1 - probs), rtol=0.08)


def test_the_d2l_die_rolls():
    """d2l's probability chapter: Multinomial(10, fair_probs).sample((n,)) and frequencies."""
    fair = stepjit.ones([6]) / 6
    stepjit.manual_seed(1)
    counts = D.Multinomial(1000, fair).sample()
    assert counts.dtype is stepjit.float32 and counts.sum().item() == 1000
    np.testing.assert_allclose((counts / 1000).numpy(), np.full(6, 1 / 6), atol=0.05)
    cum = D.Multinomial(10, fair).sample((500,)).cumsum(dim=0)
    est = cum / cum.sum(dim=1, keepdims=True)
    np.testing.assert_allclose(est[-1].numpy(), np.full(6, 1 / 6), atol=0.03)


def test_cauchy_samples_have_the_quartiles():
    x = draws(D.Cauchy(t([1.0]), t([2.0])), seed=8)[:, 0]
    np.testing.assert_allclose(np.percentile(x, [25, 50, 75]), [-1.0, 1.0, 3.0], atol=0.1)


def test_rsample_gradients_are_the_reparameterization():
    loc, scale = t([0.5]).requires_grad_(), t([2.0]).requires_grad_()
    stepjit.manual_seed(2)
    x = D.Laplace(loc, scale).rsample((5,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0])
    np.testing.assert_allclose(scale.grad.numpy(), ((x.detach().numpy() - 0.5) / 2.0).sum(0))
    rate = t([2.0]).requires_grad_()
    y = D.Exponential(rate).rsample((4,))
    y.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), -(y.detach().numpy() / 2.0).sum(0))
    s = t([1.5]).requires_grad_()
    z = D.HalfNormal(s).rsample((3,))
    z.sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), (z.detach().numpy() / 1.5).sum(0))
    g_loc, g_scale = t([0.0]).requires_grad_(), t([1.0]).requires_grad_()
    D.Gumbel(g_loc, g_scale).rsample((3,)).sum().backward()
    assert g_loc.grad.item() == 3.0
    assert not D.Poisson(t([1.0])).has_rsample and D.StudentT(t([3.0])).has_rsample


def test_compiled_steps_draw_the_eager_numbers():
    def step(p, rate, loc):
        return (D.Multinomial(5, p).sample((2,)), D.Binomial(4, p).sample(),
                D.Poisson(rate).sample(), D.Geometric(p).sample(),
                D.Exponential(rate).rsample(), D.Laplace(loc, rate).rsample((2,)),
                D.Cauchy(loc, rate).sample(), D.Gumbel(loc, rate).rsample(),
                D.StudentT(rate * 3, loc).rsample())

    args = (t([0.2, 0.3, 0.5]), t([1.0, 2.0, 0.5]), t([0.0, 1.0, -1.0]))
    compiled = stepjit.compile(step)
    for seed in (4, 5):
        stepjit.manual_seed(seed)
        want = step(*args)
        stepjit.manual_seed(seed)
        got = compiled(*args)
        for i, (g, w) in enumerate(zip(got, want)):
            if i < 4:     # counts: the same integers
                np.testing.assert_array_equal(g.numpy(), w.numpy())
            else:         # the same draws through fused float kernels: within an ulp or two
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-14)
    assert compiled.stats()["fallbacks"] == 0


def test_relaxed_samples_approach_the_discrete_law_at_low_temperature():
    stepjit.manual_seed(12)
    p = np.array([0.2, 0.7])
    x = D.RelaxedBernoulli(t(0.05), probs=t(p)).sample((N // 4,)).numpy()
    assert ((x > 0) & (x < 1)).all()
    np.testing.assert_allclose(x.mean(0), p, atol=0.02)
    probs = np.array([0.1, 0.3, 0.6])
    y = D.RelaxedOneHotCategorical(t(0.05), probs=t(probs)).sample((N // 4,)).numpy()
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(y.mean(0), probs, atol=0.02)


def test_transformed_samples_follow_the_pushed_forward_law():
    stepjit.manual_seed(13)
    d = D.TransformedDistribution(D.Normal(t([0.3]), t([0.5])), [D.ExpTransform()])
    x = d.sample((N,)).numpy()[:, 0]
    np.testing.assert_allclose(np.log(x).mean(), 0.3, atol=5 * 0.5 / math.sqrt(N))
    np.testing.assert_allclose(np.log(x).std(), 0.5, rtol=0.03)
    squashed = D.TransformedDistribution(D.Normal(t([0.0]), t([2.0])), D.TanhTransform())
    assert (np.abs(squashed.sample((500,)).numpy()) < 1).all()


def test_relaxed_and_transformed_rsample_gradients():
    """The Gumbel-softmax trick: gradients reach the logits through the relaxed sample, and a
    squashed Gaussian policy's rsample and log_prob (SAC's) reach loc and scale."""
    logits = t([0.5, -0.3, 1.2]).requires_grad_()
    stepjit.manual_seed(3)
    y = D.RelaxedOneHotCategorical(t(0.5), logits=logits).rsample()
    (y * t([1.0, 2.0, 3.0])).sum().backward()
    g = logits.grad.numpy()
    # d/dlogits of sum(w * softmax((logits + gumbel)/T)) = softmax jacobian / T
    s = y.detach().numpy()
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g, s * (w - (s * w).sum()) / 0.5, rtol=1e-9)
    loc, scale = t([0.2]).requires_grad_(), t([0.7]).requires_grad_()
    policy = D.TransformedDistribution(D.Normal(loc, scale), [D.TanhTransform(cache_size=1)])
    a = policy.rsample((4,))
    (policy.log_prob(a).sum() + a.sum()).backward()
    assert np.isfinite(loc.grad.numpy()).all() and np.isfinite(scale.grad.numpy()).all()


def test_compiled_relaxed_and_transformed_draws_match_eager():
    def step(logits, loc):
        return (D.RelaxedBernoulli(t(0.3), logits=logits).rsample((2,)),
                D.RelaxedOneHotCategorical(t(0.3), logits=logits).rsample(),
                D.TransformedDistribution(D.Normal(loc, 1.0),
                                          [D.AffineTransform(1.0, 2.0), D.SigmoidTransform()]
                                          ).rsample())

    args = (t([0.1, -0.4, 0.9]), t([0.0, 0.5, -0.5]))
    compiled = stepjit.compile(step)
    for seed in (1, 2):
        stepjit.manual_seed(seed)
        want = step(*args)
        stepjit.manual_seed(seed)
        for g, w in zip(compiled(*args), want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-14)
    assert compiled.stats()["fallbacks"] == 0


def test_mixture_samples_have_the_mixture_moments():
    w = np.array([0.2, 0.5, 0.3])
    loc, scale = np.array([-2.0, 0.0, 3.0]), np.array([0.5, 1.0, 0.7])
    gmm = D.MixtureSameFamily(D.Categorical(probs=t(w)), D.Normal(t(loc), t(scale)))
    stepjit.manual_seed(21)
    x = gmm.sample((N,)).numpy()
    mean = (w * loc).sum()
    var = (w * (scale ** 2 + loc ** 2)).sum() - mean ** 2
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / N)
    np.testing.assert_allclose(x.var(), var, rtol=0.05)
    np.testing.assert_allclose([gmm.mean.item(), gmm.variance.item()], [mean, var], rtol=1e-12)
    # the mixture's cdf, from the components' normal cdfs
    below = sum(wk * 0.5 * (1 + math.erf((-1 - mk) / (sk * math.sqrt(2))))
                for wk, mk, sk in zip(w, loc, scale))
    np.testing.assert_allclose((x < -1).mean(), below, atol=0.015)
    np.testing.assert_allclose(gmm.cdf(t(-1.0)).item(), below, rtol=1e-12)
    vec = D.MixtureSameFamily(D.Categorical(logits=stepjit.zeros(4, 3)),
                              D.Independent(D.Normal(stepjit.zeros(4, 3, 2), 1.0), 1))
    assert tuple(vec.sample((5,)).shape) == (5, 4, 2)


@pytest.mark.parametrize("make,words", [
    (lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(stepjit.zeros(3), 1.0)),
     "needs to be an  instance of torch.distributions.Categorical"),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=stepjit.zeros(2)),
                                 D.Normal(stepjit.zeros(3), 1.0)),
     "does not equal `component_distribution.batch_shape[-1]` (3)"),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=stepjit.zeros(2, 3)),
                                 D.Normal(stepjit.zeros(4, 3), 1.0)),
     "is not compatible with"),
], ids=["not categorical", "component count", "batch shapes"])
def test_mixture_arguments_are_checked_as_pytorch_does(make, words):
    with pytest.raises(ValueError) as info:
        make()
    assert words in str(info.value)
