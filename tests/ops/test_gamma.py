"""lgamma, digamma, polygamma (tests/ops/gamma_cases.py) against PyTorch's recorded values
and gradients, finite differences, a live PyTorch where installed, compiled steps against
eager; and the errors PyTorch gives on bad input."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks, oracle
from tests.ops.gamma_cases import CASES

TABLE = oracle.load(Path(__file__).parents[1] / "fixtures" / "gamma"
                    / "torch_gamma.npz")
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_recorded_pytorch(case):
    checks.against_recording(case, TABLE)


# Not by finite differences: float32, and values spanning 1e-7 to 1e13 (small and negative
# x), past a central difference's resolution; PyTorch's recorded gradients cover those, and
# polygamma_2_3_moderate checks the same rules by differences.
FD = [c for c in CASES if c.grad and c.name not in ("lgamma_float32", "polygamma_2_3",
                                                    "polygamma_4_negative")]


@pytest.mark.parametrize("case", FD, ids=[c.name for c in FD])
def test_gradients_match_finite_differences(case):
    checks.against_finite_differences(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_live_pytorch(case):
    torch = pytest.importorskip("torch")
    checks.against_torch(case, torch)


COMPILED = [c for c in CASES if c.compiled]


@pytest.mark.parametrize("case", COMPILED, ids=[c.name for c in COMPILED])
def test_compiled_matches_eager(case):
    checks.compiled_matches_eager(case)


def test_every_recorded_case_is_in_the_table():
    assert set(TABLE) == {c.name for c in CASES}




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
