"""lgamma, digamma, polygamma (tests/ops/gamma_cases.py) against PyTorch's recorded values
and gradients, finite differences, a live PyTorch where installed, compiled steps against
eager; and the errors PyTorch gives on bad input."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.gamma_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "gamma" / "torch_gamma.npz"

    def by_differences(self, case):
        # Not by finite differences: float32, and values spanning 1e-7 to 1e13 (small and
        # negative x), past a central difference's resolution; PyTorch's recorded gradients
        # cover those, and polygamma_2_3_moderate checks the same rules by differences.
        return bool(case.grad) and case.name not in ("lgamma_float32", "polygamma_2_3",
                                                     "polygamma_4_negative")


# -- errors ----------------------------------------------------------------------------------
def test_negative_order_is_refused():
    with pytest.raises(RuntimeError, match="does not support negative n"):
        stepjit.polygamma(-1, stepjit.ones(2))


def test_multigammaln_domain():
    with pytest.raises(RuntimeError, match="greater than \\(p-1\\)/2"):
        stepjit.special.multigammaln(stepjit.tensor([0.5, 3.0]), 3)


def test_integer_input_computes_in_the_default_float():
    x = stepjit.tensor([1, 2, 5])
    assert stepjit.lgamma(x).dtype is stepjit.float32
    np.testing.assert_allclose(stepjit.lgamma(x).numpy(), [0.0, 0.0, np.log(24.0)], atol=1e-6)
