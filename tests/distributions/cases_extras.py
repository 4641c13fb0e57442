"""HalfCauchy, InverseGamma, Kumaraswamy, ContinuousBernoulli (both sides of its Taylor
region) and OneHotCategoricalStraightThrough against
PyTorch: densities, entropies, moments, cdfs and the straight-through gradient, one table
recorded by tests/fixtures/record_distribution_extras.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(2114)
SCALE = RNG.uniform(0.5, 2.0, 3)
VALUE = RNG.uniform(0.1, 4.0, 3)
CONC = np.array([0.7, 1.5, 3.5])
CONC_IG = np.array([2.5, 3.2, 4.0])
RATE = RNG.uniform(0.5, 2.0, 3)
UNIT = RNG.uniform(0.05, 0.95, 3)
PROB = np.array([0.1, 0.5, 0.93])
LOGITS = RNG.standard_normal((2, 4))


def _half_cauchy(T, scale, value, prob):
    d = T.distributions.HalfCauchy(scale)
    unchecked = T.distributions.HalfCauchy(scale, validate_args=False)
    return (d.log_prob(value), unchecked.log_prob(-value), d.entropy(), d.cdf(value),
            d.icdf(prob), d.mean, d.variance, d.mode)


def _inverse_gamma(T, conc, rate, value):
    d = T.distributions.InverseGamma(conc, rate)
    return d.log_prob(value), d.entropy(), d.mean, d.variance, d.mode


def _kumaraswamy(T, conc, rate, unit):
    d = T.distributions.Kumaraswamy(conc, rate)
    return d.log_prob(unit), d.entropy(), d.mean, d.variance


def _straight_through(T, logits):
    """The sample is random (stepjit's generator is not PyTorch's); its value's gradient is
    the probabilities' whatever the draw: rsample - sample is probs - probs.detach()."""
    d = T.distributions.OneHotCategoricalStraightThrough(logits=logits)
    T.manual_seed(0)
    s = d.rsample((3,))
    return (s - s.detach()) * 5 + d.probs.detach(), d.log_prob(T.eye(4)[[0, 2]]), d.entropy()


CB_PROBS = np.array([0.02, 0.3, 0.4995, 0.5, 0.5008, 0.9])
CB_VALUE = RNG.uniform(0.05, 0.95, 6)


def _continuous_bernoulli(T, probs, value, u):
    d = T.distributions.ContinuousBernoulli(probs)
    g = T.distributions.ContinuousBernoulli(logits=(probs / (1 - probs)).log() * 0.5)
    unchecked = T.distributions.ContinuousBernoulli(probs, validate_args=False)
    return (d.log_prob(value), d.entropy(), d.mean, d.variance, d.cdf(value), d.icdf(u),
            g.log_prob(value), g.mean, unchecked.cdf(value * 0 - 1),
            unchecked.cdf(value * 0 + 2))


CASES = [
    Case("half_cauchy", _half_cauchy, SCALE, VALUE, PROB, grad=(0, 1)),
    Case("inverse_gamma", _inverse_gamma, CONC_IG, RATE, VALUE),
    Case("inverse_gamma_heavy_tails", _inverse_gamma, CONC, RATE, VALUE, grad=()),
    Case("kumaraswamy", _kumaraswamy, CONC, RATE, UNIT),
    Case("one_hot_categorical_straight_through", _straight_through, LOGITS),
    Case("continuous_bernoulli", _continuous_bernoulli, CB_PROBS, CB_VALUE, CB_VALUE[::-1].copy()),
]
