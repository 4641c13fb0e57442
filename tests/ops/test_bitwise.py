"""Bitwise and logical functions (tests/ops/bitwise_cases.py) against PyTorch's recorded values
and dtypes, a live PyTorch where installed, compiled steps against eager; and PyTorch's
refusals (floats, bool shifts, an in-place result that cannot be cast back)."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.bitwise_cases import CASES



class TestAgainstPyTorch(checks.CaseTable):
    """Values and dtypes exact; compiled on the interpreter and the CPU backend."""
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "bitwise" / "torch_bitwise.npz"

    def by_differences(self, case):
        return False           # integer and boolean functions: nothing to differentiate

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name)

    @pytest.mark.parametrize("backend", ["interpret", "cpu"])
    def test_compiled_matches_eager(self, compiled_case, backend):
        checks.compiled_outputs_equal_eager(compiled_case, backend)


def test_a_hot_step_runs_shifts_natively_with_the_same_bits():
    """Past its 64th call a small step runs as one native function: the shift helpers must
    reach it too (amounts past the width are where a machine shift would differ)."""
    a = stepjit.tensor([1, -8, 5, 2 ** 62, -3])
    s = stepjit.tensor([64, 65, -1, 2, 70])
    step = stepjit.compile(lambda a, s: ((a << s) ^ (a >> s)) | (a & ~s))
    x, n = a.numpy(), s.numpy()
    want = (np.left_shift(x, n) ^ np.right_shift(x, n)) | (x & ~n)
    for _ in range(70):
        got = step(a, s)
    np.testing.assert_array_equal(got.numpy(), want)
    assert step.stats()["fallbacks"] == 0


# -- what PyTorch refuses ----------------------------------------------------------------------
REFUSED = [
    ("float_and", lambda T: T.ones(2) & T.ones(2), "bitwise_and"),
    ("float_scalar_or", lambda T: T.tensor([1, 2]) | 1.5, "bitwise_or"),
    ("float_shift", lambda T: T.ones(2) >> 1, "right_shift"),
    ("float_not", lambda T: T.bitwise_not(T.ones(2)), "bitwise_not"),
    ("bool_shift", lambda T: T.tensor([True]) << T.tensor([True]), "left_shift"),
]


@pytest.mark.parametrize("make,op", [(m, o) for _, m, o in REFUSED], ids=[n for n, _, _ in REFUSED])
def test_refused_with_the_op_dtype_and_line(make, op):
    """NotImplementedError, as PyTorch's (and a RuntimeError, as every error of ours)."""
    with pytest.raises(NotImplementedError) as e:
        make(stepjit)
    msg = str(e.value)
    assert op in msg and "test_bitwise.py" in msg, msg


@pytest.mark.parametrize("make", [m for _, m, _ in REFUSED], ids=[n for n, _, _ in REFUSED])
def test_pytorch_refuses_the_same(make):
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        make(torch)


def test_inplace_result_that_cannot_be_cast_back_is_refused_unchanged():
    m = stepjit.tensor([True, False])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type bool"):
        m &= stepjit.tensor([1, 1])
    assert m.tolist() == [True, False]


def test_invert_of_a_float_is_a_type_error_as_pytorchs_operator():
    with pytest.raises(TypeError, match="operator.invert.*float32.*test_bitwise.py"):
        ~stepjit.ones(2)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        ~torch.ones(2)


def test_other_operands_get_pythons_type_error():
    with pytest.raises(TypeError, match="unsupported operand"):
        stepjit.tensor([1]) & "a"
