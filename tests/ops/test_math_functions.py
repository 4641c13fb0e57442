"""Math, statistics, stacking, search, products and linear algebra (tests/ops/math_cases.py)
against PyTorch's recorded values and gradients, finite differences, a live PyTorch where
installed, and compiled steps against eager."""
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures import checks, oracle
from tests.ops.math_cases import CASES

TABLE = oracle.load(Path(__file__).parents[1] / "fixtures" / "math" / "torch_math.npz")
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_recorded_pytorch(case):
    checks.against_recording(case, TABLE)


# Checked against PyTorch only: ties (a finite difference breaks them: mode, cummax's ties)
# and xlogy's 0 * log 0, a value by convention where the difference quotient is infinite.
FD = [c for c in CASES if c.name not in ("mode", "cummax_ties", "xlogy") and c.grad and all(np.isfinite(a).all() for a in c.inputs
                                          if isinstance(a, np.ndarray) and a.dtype.kind == "f")]


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
