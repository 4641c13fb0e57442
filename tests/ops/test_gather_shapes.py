"""gather's index shapes as PyTorch allows them (tests/ops/gather_cases.py, recorded), its
shape errors, and the same gathers compiled against eager."""
from pathlib import Path

import pytest

import stepjit
from tests.ops import test_methods
from tests.ops.gather_cases import CASES, X
from tests.ops.step_checks import compiled_matches_eager


class TestAgainstPyTorch(test_methods.TestAgainstPyTorch):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "gather" / "torch_gather.npz"


def test_errors_as_pytorch():
    x = stepjit.tensor(X)
    with pytest.raises(RuntimeError, match="Size does not match at dimension 0 expected index "
                                           r"\[4, 1\] to be no larger than self \[3, 4\] apart "
                                           "from dimension 1"):
        stepjit.gather(x, 1, stepjit.tensor([[0], [1], [1], [0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        stepjit.gather(x, 1, stepjit.tensor([0, 1]))


def test_compiled_matches_eager():
    x = stepjit.tensor(X, requires_grad=True)
    idx = stepjit.tensor([[0, 3], [2, 2]])

    def step(x):
        loss = (x.gather(1, idx) ** 2).sum()
        loss.backward()
        return loss.detach()

    compiled_matches_eager(step, x)
