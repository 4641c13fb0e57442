"""Matrix decompositions (tests/ops/decomposition_cases.py) against PyTorch's recorded values
and gradients, finite differences, a live PyTorch where installed, compiled steps against
eager; and the errors PyTorch gives on bad input."""
from pathlib import Path

import warnings

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.decomposition_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "decompositions" / "torch_decompositions.npz"

    def live_torch(self, case, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch.cholesky's deprecation
            checks.against_torch(case, torch)


# -- errors ----------------------------------------------------------------------------------
def test_cholesky_of_a_matrix_that_is_not_positive_definite():
    a = stepjit.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=stepjit.float64)
    with pytest.raises(RuntimeError, match="not positive-definite \\(the leading minor of "
                                           "order 2 is not positive-definite\\)"):
        stepjit.linalg.cholesky(a)


def test_shapes_and_dtypes_are_checked_with_the_op_named():
    with pytest.raises(Exception, match="linalg.cholesky: A must be batches of square"):
        stepjit.linalg.cholesky(stepjit.ones(2, 3))
    with pytest.raises(Exception, match="linalg.eigh: A must be batches of square"):
        stepjit.linalg.eigh(stepjit.ones(3, 2))
    with pytest.raises(Exception, match="linalg.svd: The input tensor A must have at least 2"):
        stepjit.linalg.svd(stepjit.ones(3))
    with pytest.raises(Exception, match="linalg.qr: Expected a floating point tensor"):
        stepjit.linalg.qr(stepjit.ones(3, 3, dtype=stepjit.int64))
    with pytest.raises(Exception, match="unrecognized mode 'full'"):
        stepjit.linalg.qr(stepjit.ones(3, 3), mode="full")
    with pytest.raises(RuntimeError, match="UPLO"):
        stepjit.linalg.eigh(stepjit.eye(2), UPLO="X")


def test_gradients_pytorch_does_not_define_say_so():
    x = stepjit.randn(2, 4, dtype=stepjit.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="at least as many rows as columns"):
        stepjit.linalg.qr(x).Q.sum().backward()
    y = stepjit.randn(4, 2, dtype=stepjit.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        stepjit.linalg.svd(y).U.sum().backward()


def test_eig_and_eigvals_say_why_they_are_refused():
    """Their results are complex tensors, which stepjit does not have."""
    for fn in (stepjit.linalg.eig, stepjit.linalg.eigvals):
        with pytest.raises(NotImplementedError, match="complex.*eigh"):
            fn(stepjit.eye(2))


LSTSQ_ERRORS = [
    ("rows", lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(4, 1))),
    ("driver", lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(3, 1), driver="gelsx")),
    ("integer", lambda T: T.linalg.lstsq(T.ones(3, 2, dtype=T.int64), T.ones(3, 1))),
    ("dtypes", lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(3, 1, dtype=T.float64))),
]


@pytest.mark.parametrize("make", [m for _, m in LSTSQ_ERRORS], ids=[n for n, _ in LSTSQ_ERRORS])
def test_lstsq_refuses_what_pytorch_refuses(make):
    with pytest.raises(RuntimeError, match="lstsq"):
        make(stepjit)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        make(torch)


def test_inputs_unchanged_by_a_failed_factorization():
    a = np.array([[1.0, 2.0], [2.0, 1.0]])
    t = stepjit.from_numpy(a.copy())
    with pytest.raises(RuntimeError):
        stepjit.linalg.cholesky(t)
    assert np.array_equal(t.numpy(), a)
