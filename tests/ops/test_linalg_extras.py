"""torch.linalg's multi_dot, solve_triangular, vander, cond, inv_ex, solve_ex, diagonal,
tensorinv and tensorsolve (tests/ops/linalg_extra_cases.py) against PyTorch's recorded values,
dtypes and gradients and a live PyTorch where installed, gradients by finite differences, one
compiled against eager; errors as PyTorch's."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks, oracle
from tests.ops.linalg_extra_cases import AB, A, B, CASES, cond_norm_orders


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "linalg_extras" / \
        "torch_linalg_extras.npz"

    def by_differences(self, case):
        """Cases whose outputs are all differentiable (inv_ex's info is an integer output)."""
        return case.name in ("multi_dot", "solve_triangular", "vander", "cond")

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name, float_tol=1e-10)


def test_cond_norm_orders_gradients_match_finite_differences():
    """PyTorch 2.13 raises on these gradients; central differences are the reference."""
    checks.against_finite_differences(oracle.Case("cond_orders", cond_norm_orders, A, AB))


def test_solve_triangular_compiles_with_its_gradient():
    b = stepjit.tensor(B)

    def step(a):
        x = stepjit.linalg.solve_triangular(a, b, upper=True)
        loss = (x * x).sum()
        loss.backward()
        return loss.detach()

    from tests.ops.step_checks import compiled_matches_eager
    compiled_matches_eager(step, stepjit.tensor(A, requires_grad=True))


ERRORS = [
    (lambda L, T: L.multi_dot([T.ones(2, 3)]), RuntimeError,
     r"multi_dot\(\): expected at least 2 tensors but got 1"),
    (lambda L, T: L.multi_dot([T.ones(2, 3), T.ones(4, 2)]), RuntimeError,
     r"tensors 0 and 1 with shapes \[2, 3\] and \[4, 2\] cannot be multiplied"),
    (lambda L, T: L.multi_dot([T.ones(2, 3), T.ones(3, 3, 3), T.ones(3)]), RuntimeError,
     "must be 2D but got 3D"),
    (lambda L, T: L.solve_triangular(T.ones(2, 3), T.ones(2, 1), upper=True), RuntimeError,
     "square"),
    (lambda L, T: L.vander(T.ones(3), N=1), RuntimeError, "N must be greater than 1"),
    (lambda L, T: L.tensorinv(T.ones(2, 3), 1), RuntimeError, "prod"),
    (lambda L, T: L.inv_ex(T.zeros(2, 2), check_errors=True), RuntimeError, "singular"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_errors_as_pytorch(call, error, match):
    with pytest.raises(error, match=match):
        call(stepjit.linalg, stepjit)


def test_linalg_error_is_pytorchs_class():
    with pytest.raises(stepjit.linalg.LinAlgError, match="singular"):
        stepjit.linalg.inv(stepjit.zeros(3, 3))
    assert issubclass(stepjit.linalg.LinAlgError, RuntimeError)
    x = stepjit.zeros(2, 3, 3)
    x[0] = stepjit.eye(3)
    inverse, info = stepjit.linalg.inv_ex(x)
    assert info.tolist() == [0, 1] and np.array_equal(inverse[0].numpy(), np.eye(3))


def test_init_dirac_deprecated_form():
    w = stepjit.zeros(2, 2, 3)
    with pytest.warns(FutureWarning, match="nn.init.dirac` is now deprecated"):
        stepjit.nn.init.dirac(w)
    assert w[:, :, 1].tolist() == [[1.0, 0.0], [0.0, 1.0]]
