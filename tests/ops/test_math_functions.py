"""Math, statistics, stacking, search, products and linear algebra (tests/ops/math_cases.py)
against PyTorch's recorded values and gradients, finite differences, a live PyTorch where
installed, and compiled steps against eager."""
from pathlib import Path

from tests.fixtures import checks
from tests.ops.math_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "math" / "torch_math.npz"

    def by_differences(self, case):
        # Checked against PyTorch only: ties (a finite difference breaks them: mode, cummax's
        # ties) and xlogy's 0 * log 0, a value by convention where the difference quotient is
        # infinite.
        return (bool(case.grad) and case.name not in ("mode", "cummax_ties", "xlogy")
                and checks.finite_inputs(case))
