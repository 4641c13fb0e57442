"""Distributions (tests/distributions/cases.py) against PyTorch's recorded values and
gradients, finite differences, a live PyTorch where installed, and compiled steps against
eager; bad parameters and values raise PyTorch's ValueError."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit.distributions import Bernoulli, Categorical, Normal, Uniform
from tests.distributions.cases import CASES
from tests.fixtures import checks


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "distributions" / "torch_distributions.npz"


def test_shapes_follow_pytorch():
    d = Categorical(logits=stepjit.zeros(2, 3, 5))
    assert tuple(d.batch_shape) == (2, 3) and tuple(d.event_shape) == ()
    assert tuple(d.sample((4,)).shape) == (4, 2, 3)
    n = Normal(stepjit.zeros(3), 1.0)
    assert tuple(n.batch_shape) == (3,) and tuple(n.rsample((2, 5)).shape) == (2, 5, 3)
    assert tuple(Normal(0.0, 1.0).sample().shape) == ()
    assert tuple(Bernoulli(probs=stepjit.full((2,), 0.5)).sample((3,)).shape) == (3, 2)


BAD = [
    ("categorical negative probs", lambda: Categorical(probs=stepjit.tensor([-0.5, 1.5])),
     ["probs", "Simplex", "(2,)"]),
    ("categorical both", lambda: Categorical(stepjit.ones(2) / 2, stepjit.zeros(2)),
     ["Either `probs` or `logits`"]),
    ("categorical 0-d", lambda: Categorical(logits=stepjit.tensor(1.0)), ["one-dimensional"]),
    ("categorical value", lambda: Categorical(logits=stepjit.zeros(3)).log_prob(
        stepjit.tensor(3)), ["support", "IntegerInterval", "upper_bound=2"]),
    ("categorical value shape", lambda: Categorical(logits=stepjit.zeros(2, 3)).log_prob(
        stepjit.tensor([0, 1, 2])), ["not broadcastable", "(3,)", "(2,)"]),
    ("normal scale", lambda: Normal(stepjit.zeros(2), stepjit.tensor([1.0, -1.0])),
     ["scale", "GreaterThan"]),
    ("bernoulli probs", lambda: Bernoulli(probs=stepjit.tensor([0.5, 1.5])),
     ["probs", "Interval"]),
    ("bernoulli value", lambda: Bernoulli(probs=stepjit.tensor([0.5])).log_prob(
        stepjit.tensor([0.5])), ["support", "Boolean"]),
    ("uniform bounds", lambda: Uniform(stepjit.tensor([1.0]), stepjit.tensor([0.0])),
     ["low >= high"]),
]


@pytest.mark.parametrize("name,fn,words", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_pytorchs_value_error(name, fn, words):
    with pytest.raises(ValueError) as info:
        fn()
    for w in words:
        assert w in str(info.value), f"{name}: {w!r} not in {info.value}"


def test_validate_args_false_skips_the_checks():
    d = Bernoulli(probs=stepjit.tensor([0.5]), validate_args=False)
    assert d.log_prob(stepjit.tensor([0.5])).item() == pytest.approx(-np.log(2.0))
    stepjit.distributions.Distribution.set_default_validate_args(False)
    try:
        Normal(0.0, -1.0)
    finally:
        stepjit.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Normal(0.0, -1.0)
