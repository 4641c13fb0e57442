"""Bicubic interpolate and ConvTranspose3d (tests/nn/upsampling_cases.py) against PyTorch's
recorded values and gradients, finite differences, a live PyTorch where installed, and
compiled steps against eager; their errors."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks, oracle
from tests.nn.upsampling_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "nn" / "torch_upsampling.npz"

    def by_differences(self, case):
        return bool(case.grad) and case.inputs[0].dtype == np.float64 and "Conv" not in case.name

    def compiled_case(self, case):
        return oracle.Case(case.name, lambda T, *xs: oracle.outputs(case.fn(T, *xs)),
                           *case.inputs, grad=case.grad)


F = stepjit.nn.functional


def test_bicubic_refuses_other_ranks_and_antialias():
    with pytest.raises(NotImplementedError, match="Got 3D input, but bicubic mode needs 4D"):
        F.interpolate(stepjit.ones(1, 2, 5), scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(stepjit.ones(1, 1, 4, 4), scale_factor=0.5, mode="bicubic", antialias=True)


def test_conv_transpose3d_errors_name_the_op_and_shapes():
    with pytest.raises(stepjit.errors.StepjitError,
                       match=r"conv_transpose3d.*\[1, 3, 2, 2, 2\].*4 channels"):
        F.conv_transpose3d(stepjit.ones(1, 3, 2, 2, 2), stepjit.ones(4, 2, 1, 1, 1))
    with pytest.raises(stepjit.errors.StepjitError, match="output padding must be smaller"):
        F.conv_transpose3d(stepjit.ones(1, 4, 2, 2, 2), stepjit.ones(4, 2, 1, 1, 1),
                           output_padding=1)
