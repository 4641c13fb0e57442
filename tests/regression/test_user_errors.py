"""Errors a user can act on: PyTorch's exception types and texts, naming the user's line."""
import os

import pytest

import stepjit
import stepjit.nn.functional as F

HERE = os.path.basename(__file__)


def _line_of(text):
    """The line number of the first line of this file that holds `text`."""
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if text in line and "_line_of" not in line:
                return i
    raise AssertionError(text)


W = stepjit.randn(4, 3, requires_grad=True)


def _ce_step(x, y):
    loss = F.cross_entropy(x @ W, y)   # the user's line: CE_LINE
    loss.backward()
    return loss


def _index_step(x, i):
    picked = x[i] * 2.0   # the user's line: INDEX_LINE
    return picked.sum()


@pytest.mark.parametrize("backend", ["cpu", "interpret"])
def test_data_dependent_errors_in_a_compiled_step_name_the_users_line(backend):
    ce = stepjit.compile(_ce_step, backend=backend)
    x = stepjit.randn(2, 4)
    ce(x, stepjit.tensor([0, 1]))
    for bad in (5, -1):
        with pytest.raises(RuntimeError, match="out of bounds") as info:
            ce(x, stepjit.tensor([0, bad]))
        assert f"{HERE}:{_line_of('CE_LINE')}" in str(info.value)
        assert "<stepjit" not in str(info.value)
    index = stepjit.compile(_index_step, backend=backend)
    index(stepjit.randn(3), stepjit.tensor([0, 2]))
    with pytest.raises(RuntimeError, match="out of bounds") as info:
        index(stepjit.randn(3), stepjit.tensor([0, 7]))
    assert f"{HERE}:{_line_of('INDEX_LINE')}" in str(info.value)


def test_eager_index_error_names_the_users_line():
    with pytest.raises(RuntimeError) as info:
        stepjit.randn(3)[stepjit.tensor([7])]   # EAGER_LINE
    assert f"{HERE}:{_line_of('EAGER_LINE')}" in str(info.value)


T = stepjit.randn(2, 2)


@pytest.mark.parametrize("call, text", [
    (lambda: T.mm([[1.0, 2.0], [3.0, 4.0]]), "mm(): argument 'mat2' (position 2) must be Tensor, not list"),
    (lambda: T.mm(2.0), "mm(): argument 'mat2' (position 2) must be Tensor, not float"),
    (lambda: stepjit.mm([[1.0]], T), "mm(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda: [[1.0, 2.0], [3.0, 4.0]] @ T, "unsupported operand type(s) for @: 'list' and 'Tensor'"),
    (lambda: T @ 2.0, "unsupported operand type(s) for @: 'Tensor' and 'float'"),
    (lambda: T.matmul((1.0, 2.0)), "matmul(): argument 'other' (position 2) must be Tensor, not tuple"),
    (lambda: F.linear([[1.0, 2.0]], T), "linear(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda: F.linear(T, [[1.0, 2.0]]), "linear(): argument 'weight' (position 2) must be Tensor, not list"),
    (lambda: stepjit.bmm(T, 3), "bmm(): argument 'mat2' (position 2) must be Tensor, not int"),
])
def test_matrix_products_of_non_tensors_raise_pytorchs_type_error(call, text):
    with pytest.raises(TypeError) as info:
        call()
    assert text in str(info.value)
