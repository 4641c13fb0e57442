"""Tensor functions (sort, cumsum, einsum, scatter, ...) against PyTorch's recorded values and
gradients, finite differences, a live PyTorch where installed, and compiled runs."""
from pathlib import Path

from tests.fixtures import checks
from tests.ops.cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "ops" / "torch_ops.npz"

    def by_differences(self, case):
        return bool(case.grad) and checks.finite_inputs(case)
