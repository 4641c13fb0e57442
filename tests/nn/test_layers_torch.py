"""Layers, nn.functional and losses against PyTorch's recorded values and gradients (inputs,
parameters, buffers), finite differences, and a live PyTorch where installed."""
from pathlib import Path

from tests.fixtures import checks
from tests.nn.cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "nn" / "torch_nn.npz"

    def by_differences(self, case):
        return bool(case.grad) and checks.finite_inputs(case)
