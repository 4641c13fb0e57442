"""poisson: counts with the rates' mean and variance, reproducible from a seed or a
Generator, the same draws compiled, zero rates give zeros, bad rates are refused."""
import numpy as np
import pytest

import stepjit
from stepjit.errors import StepjitError

RATES = [0.0, 0.5, 3.0, 40.0]


def test_counts_have_the_rates_mean_and_variance():
    stepjit.manual_seed(0)
    x = stepjit.poisson(stepjit.tensor(RATES).repeat(8000, 1)).numpy()
    assert x.dtype == np.float32 and np.all(x == np.round(x)) and np.all(x[:, 0] == 0)
    np.testing.assert_allclose(x.mean(0)[1:], RATES[1:], rtol=0.04)
    np.testing.assert_allclose(x.var(0)[1:], RATES[1:], rtol=0.08)


def test_a_large_rate_does_not_underflow():
    stepjit.manual_seed(1)
    x = stepjit.poisson(stepjit.full((400,), 900.0, dtype=stepjit.float64)).numpy()
    assert abs(x.mean() - 900) < 5 and x.dtype == np.float64


def test_draws_repeat_from_a_seed_and_a_generator():
    rates = stepjit.tensor([1.0, 2.0, 5.0])
    stepjit.manual_seed(4)
    a = stepjit.poisson(rates)
    stepjit.manual_seed(4)
    b = stepjit.poisson(rates)
    g = stepjit.Generator().manual_seed(9)
    c = stepjit.poisson(rates, generator=g)
    g.manual_seed(9)
    d = stepjit.poisson(rates, generator=g)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_compiled_draws_the_eager_counts():
    def step(rates):
        return stepjit.poisson(rates * 2)

    rates = stepjit.tensor([[0.5, 1.0], [4.0, 0.0]])
    compiled = stepjit.compile(step)
    stepjit.manual_seed(3)
    eager = [step(rates).numpy() for _ in range(2)]
    stepjit.manual_seed(3)
    got = [compiled(rates).numpy() for _ in range(2)]
    for e, c in zip(eager, got):
        np.testing.assert_array_equal(c, e)


@pytest.mark.parametrize("rates,words", [
    (stepjit.tensor([1.0, -1.0]), ["poisson", "non-negative", "[2]"]),
    (stepjit.tensor([1.0, float("inf")]), ["poisson", "finite"]),
    (stepjit.tensor([2]), ["poisson", "int64"]),
])
def test_bad_rates_are_refused(rates, words):
    with pytest.raises(StepjitError) as info:
        stepjit.poisson(rates)
    for w in words:
        assert w in str(info.value)


def test_binomial_counts_have_the_mean_and_variance():
    counts = stepjit.tensor([0.0, 1.0, 10.0, 300.0, 20.0]).repeat(6000, 1)
    probs = stepjit.tensor([0.5, 0.3, 0.5, 0.02, 0.9]).repeat(6000, 1)
    stepjit.manual_seed(2)
    x = stepjit.binomial(counts, probs).numpy()
    n, p = counts.numpy()[0], probs.numpy()[0]
    assert x.dtype == np.float32 and np.all(x == np.round(x)) and np.all(x[:, 0] == 0)
    assert np.all(x <= n)
    np.testing.assert_allclose(x.mean(0)[1:], (n * p)[1:], rtol=0.04)
    np.testing.assert_allclose(x.var(0)[1:], (n * p * (1 - p))[1:], rtol=0.1)


def test_compiled_draws_the_eager_binomial_counts():
    def step(n, p):
        return stepjit.binomial(n, p * 0.5)

    n, p = stepjit.tensor([[3.0, 8.0], [1.0, 0.0]]), stepjit.tensor([[0.5, 1.0], [2.0, 1.0]])
    compiled = stepjit.compile(step)
    stepjit.manual_seed(6)
    eager = [step(n, p).numpy() for _ in range(2)]
    stepjit.manual_seed(6)
    for e in eager:
        np.testing.assert_array_equal(compiled(n, p).numpy(), e)


@pytest.mark.parametrize("count,prob,words", [
    (stepjit.tensor([1.0, -1.0]), stepjit.tensor([0.5, 0.5]), ["binomial", "non-negative"]),
    (stepjit.tensor([1.0, 2.0]), stepjit.tensor([0.5, 1.5]), ["binomial", "probs in [0, 1]"]),
    (stepjit.tensor([2, 3]), stepjit.tensor([0.5, 0.5]), ["binomial", "int64"]),
    (stepjit.tensor([2.0, 3.0]), stepjit.tensor([0.5]), ["binomial", "[2]", "[1]"]),
])
def test_bad_binomial_arguments_are_refused(count, prob, words):
    with pytest.raises(StepjitError) as info:
        stepjit.binomial(count, prob)
    for w in words:
        assert w in str(info.value), (w, str(info.value))
