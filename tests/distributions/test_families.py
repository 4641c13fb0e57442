"""Multinomial, Binomial, Poisson, Geometric, Exponential, Laplace, Cauchy, Gumbel, HalfNormal,
Chi2 and StudentT (tests/distributions/cases_families.py) against PyTorch's recorded values and
gradients, finite differences, a live PyTorch where installed, and compiled steps against
eager; bad parameters and values raise PyTorch's errors."""
from pathlib import Path

import pytest

import stepjit
from stepjit import distributions as D
from tests.distributions.cases_families import CASES, NOT_BY_DIFFERENCES
from tests.fixtures import checks

RECORDING = "distribution_families/torch_distribution_families.npz"


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / RECORDING

    def by_differences(self, case):
        return bool(case.grad) and case.name not in NOT_BY_DIFFERENCES


def test_pytorch_module_paths_resolve():
    from stepjit.distributions.multinomial import Multinomial
    from stepjit.distributions.studentT import StudentT
    from stepjit.distributions.one_hot_categorical import OneHotCategorical
    from stepjit.distributions.log_normal import LogNormal
    assert Multinomial is D.Multinomial and StudentT is D.StudentT
    assert OneHotCategorical is D.OneHotCategorical and LogNormal is D.LogNormal
    for name in ("binomial", "poisson", "exponential", "laplace", "geometric", "cauchy",
                 "gumbel", "half_normal", "chi2", "beta", "dirichlet", "transforms",
                 "transformed_distribution", "relaxed_bernoulli", "relaxed_categorical",
                 "mixture_same_family", "pareto", "weibull", "negative_binomial"):
        assert hasattr(getattr(D, name), "__file__"), name


def test_shapes_follow_pytorch():
    assert tuple(D.Multinomial(10, stepjit.ones(2, 5)).sample((3,)).shape) == (3, 2, 5)
    assert tuple(D.Binomial(10, stepjit.tensor([0.5])).batch_shape) == (1,)
    assert tuple(D.Poisson(2.0).sample((4,)).shape) == (4,)
    assert tuple(D.StudentT(stepjit.ones(3)).rsample((2,)).shape) == (2, 3)
    assert D.Poisson(stepjit.tensor([2.0])).sample().dtype is stepjit.float32
    assert tuple(D.Multinomial(4, probs=stepjit.ones(3)).event_shape) == (3,)
    t = D.TransformedDistribution(D.Independent(D.Normal(stepjit.zeros(2, 3), 1.0), 1),
                                  D.AffineTransform(0.0, stepjit.ones(3), event_dim=1))
    assert (tuple(t.batch_shape), tuple(t.event_shape)) == ((2,), (3,))
    r = D.RelaxedOneHotCategorical(stepjit.tensor(0.5), logits=stepjit.zeros(2, 4))
    assert (tuple(r.batch_shape), tuple(r.event_shape)) == ((2,), (4,))
    assert tuple(r.rsample((5,)).shape) == (5, 2, 4)
    assert tuple(D.RelaxedBernoulli(stepjit.tensor(0.5), probs=0.3).rsample((3,)).shape) == (3,)
    e = D.Multinomial(5, stepjit.ones(3)).expand((4, 2))
    assert (tuple(e.batch_shape), tuple(e.event_shape)) == ((4, 2), (3,))
    assert tuple(e.sample((6,)).shape) == (6, 4, 2, 3) and (e.sample().sum(-1) == 5).all()
    b = D.TransformedDistribution(D.Normal(0.0, 1.0), D.AffineTransform(stepjit.zeros(3), 2.0))
    assert tuple(b.batch_shape) == (3,) and tuple(b.base_dist.batch_shape) == (3,)


BAD = [
    ("geometric zero probs", lambda: D.Geometric(stepjit.tensor([0.0, 0.5])),
     ValueError, ["probs", "to be positive", "(2,)"]),
    ("chi2 negative df", lambda: D.Chi2(stepjit.tensor([-1.0])),
     ValueError, ["parameter df", "GreaterThan(lower_bound=0.0)"]),
    ("multinomial tensor count", lambda: D.Multinomial(stepjit.tensor(3), stepjit.ones(2)),
     NotImplementedError, ["inhomogeneous total_count"]),
    ("binomial fractional count", lambda: D.Binomial(stepjit.tensor([2.5]), stepjit.tensor([0.5])),
     ValueError, ["total_count", "IntegerGreaterThan(lower_bound=0)"]),
    ("binomial both", lambda: D.Binomial(2, stepjit.tensor([0.5]), stepjit.tensor([0.0])),
     ValueError, ["Either `probs` or `logits`"]),
    ("binomial value above count", lambda: D.Binomial(2, stepjit.tensor([0.5])).log_prob(
        stepjit.tensor([3.0])), ValueError, ["support", "IntegerInterval"]),
    ("poisson fractional value", lambda: D.Poisson(stepjit.tensor([1.0])).log_prob(
        stepjit.tensor([0.5])), ValueError, ["support", "IntegerGreaterThan(lower_bound=0)"]),
    ("poisson negative rate", lambda: D.Poisson(stepjit.tensor([-1.0])),
     ValueError, ["rate", "GreaterThanEq"]),
    ("multinomial counts over total", lambda: D.Multinomial(3, stepjit.ones(2)).log_prob(
        stepjit.tensor([2.0, 2.0])), ValueError, ["support", "Multinomial()"]),
    ("exponential rate", lambda: D.Exponential(stepjit.tensor([0.0])),
     ValueError, ["rate", "GreaterThan"]),
    ("exponential negative value", lambda: D.Exponential(1.0).log_prob(stepjit.tensor(-1.0)),
     ValueError, ["support", "GreaterThanEq"]),
    ("laplace scale", lambda: D.Laplace(0.0, -1.0), ValueError, ["scale"]),
    ("student t df", lambda: D.StudentT(stepjit.tensor([0.0])), ValueError, ["df"]),
    ("binomial entropy inhomogeneous", lambda: D.Binomial(
        stepjit.tensor([2.0, 3.0]), stepjit.tensor([0.5, 0.5])).entropy(),
     NotImplementedError, ["Inhomogeneous total count"]),
    ("kl binomial q count larger", lambda: D.kl_divergence(
        D.Binomial(2, stepjit.tensor([0.5])), D.Binomial(3, stepjit.tensor([0.5]))),
     NotImplementedError, ["q.total_count > p.total_count"]),
    ("transforms not a list", lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
     ValueError, ["transforms must be a Transform or list"]),
    ("expand to an incompatible shape", lambda: D.Normal(stepjit.zeros(3), 1.0).expand((2, 4)),
     Exception, ["3"]),
    ("icdf of a base without one", lambda: D.TransformedDistribution(
        D.Gamma(2.0, 1.0), D.ExpTransform()).icdf(stepjit.tensor(0.5)),
     NotImplementedError, ["Gamma has no icdf"]),
    ("kl transformed with different transforms", lambda: D.kl_divergence(
        D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform()),
        D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform())),
     NotImplementedError, ["equal transforms"]),
    ("kl unregistered", lambda: D.kl_divergence(D.Cauchy(0.0, 1.0), D.Normal(0.0, 1.0)),
     NotImplementedError, ["Cauchy", "Normal"]),
]


@pytest.mark.parametrize("name,fn,error,words", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_pytorchs_errors(name, fn, error, words):
    with pytest.raises(error) as info:
        fn()
    for w in words:
        assert w in str(info.value), f"{name}: {w!r} not in {info.value}"


def test_kl_takes_the_nearest_registered_pair():
    """Chi2 is a Gamma: KL(Chi2, Exponential) is Gamma/Exponential's formula."""
    p, q = D.Chi2(stepjit.tensor([3.0])), D.Exponential(stepjit.tensor([0.5]))
    want = D.kl_divergence(D.Gamma(stepjit.tensor([1.5]), 0.5), q)
    assert D.kl_divergence(p, q).item() == pytest.approx(want.item())


def test_half_normal_quantiles():
    """HalfNormal.icdf (PyTorch's: the Normal's at (p + 1) / 2): the median of |N(0, s)| is
    s * Phi^-1(0.75), and cdf(icdf(p)) gives p back."""
    d = D.HalfNormal(stepjit.tensor([1.0, 2.5], dtype=stepjit.float64))
    median = d.icdf(stepjit.tensor(0.5, dtype=stepjit.float64))
    assert median.tolist() == pytest.approx([0.6744897501960817, 2.5 * 0.6744897501960817],
                                            rel=1e-14)
    p = stepjit.tensor([[0.05], [0.5], [0.99]], dtype=stepjit.float64)
    assert d.cdf(d.icdf(p)).numpy() == pytest.approx(p.expand(3, 2).numpy(), rel=1e-13)
