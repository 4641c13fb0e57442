"""PyTorch's other spellings (tests/ops/spelling_cases.py) against PyTorch's recorded values
and gradients and a live PyTorch where installed; predicates and errors as PyTorch's."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.ops import test_methods
from tests.ops.spelling_cases import CASES
from tests.ops.step_checks import compiled_matches_eager


class TestAgainstPyTorch(test_methods.TestAgainstPyTorch):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "spellings" / "torch_spellings.npz"


def test_predicates_of_a_real_tensor():
    x = stepjit.tensor([[1.0, -2.0]])
    assert not x.is_complex() and not stepjit.is_complex(x) and not x.is_conj()
    assert x.conj() is x and stepjit.resolve_neg(x) is x
    assert x.is_signed() and not stepjit.tensor([1], dtype=stepjit.uint8).is_signed()
    assert not stepjit.tensor([True]).is_signed()
    assert stepjit.scalar_tensor(2).dtype is stepjit.float32
    assert x.is_same_size(stepjit.zeros(1, 2)) and not stepjit.is_same_size(x, stepjit.zeros(2))
    assert x.get_device() == -1
    assert (x.nbytes, x.itemsize, x.double().nbytes) == (8, 4, 16)
    assert stepjit.tensor([0.5]).is_nonzero() and not stepjit.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        x.is_nonzero()
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        stepjit.zeros(0).is_nonzero()


def test_errors_name_the_op_and_shapes():
    x = stepjit.zeros(3, 5)
    with pytest.raises(RuntimeError, match="split along dimension 1, but the size of the "
                                           "dimension 5 is not divisible by the split_size 2"):
        stepjit.hsplit(x, 2)
    with pytest.raises(RuntimeError, match="vsplit requires a tensor with at least 2"):
        stepjit.vsplit(stepjit.zeros(4), 2)
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D"):
        stepjit.vdot(x, stepjit.zeros(3))
    with pytest.raises(RuntimeError, match="is not expandable to size"):
        x.sum_to_size(2, 5)
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        stepjit.zeros(2, 3, 4).fill_diagonal_(1.0)
    with pytest.raises(RuntimeError, match="non-negative window_length"):
        stepjit.hann_window(-1)
    with pytest.raises(TypeError, match="does not compute in float16"):
        x.half()
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        stepjit.dropout(x, 0.5)
    assert x.sum() == 0     # the failed calls left x unchanged


def test_inplace_comparison_keeps_the_dtype_and_window_default_dtype():
    x = stepjit.tensor([1.0, -1.0, 2.0])
    assert x.gt_(0).dtype is stepjit.float32 and x.tolist() == [1.0, 0.0, 1.0]
    w = stepjit.hann_window(8)
    assert w.dtype is stepjit.float32
    np.testing.assert_allclose(w.numpy(), 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8),
                               rtol=1e-6, atol=1e-7)


def test_torch_forms_compile_like_eager():
    img = stepjit.tensor(np.random.default_rng(3).standard_normal((2, 3, 5, 5)),
                         requires_grad=True)
    k = stepjit.tensor(np.random.default_rng(4).standard_normal((4, 3, 3, 3)))

    def step(img):
        y = stepjit.layer_norm(stepjit.conv2d(img, k, None, 1, 1), [5])
        loss = stepjit.greater(y, 0).float().mul(y).absolute().sum()
        loss.backward()
        return loss.detach()

    compiled_matches_eager(step, img)


def test_second_wave_errors_and_defaults():
    x = stepjit.zeros(2, 3)
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_scatter(stepjit.ones(2, 3), stepjit.ones(6))
    with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices"):
        stepjit.zeros(3).H
    with pytest.raises(RuntimeError, match="src to have a size equal to the slice"):
        stepjit.select_scatter(x, stepjit.ones(2), 0, 0)
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        assert stepjit.range(0, 2).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="invalid type"):
        stepjit.set_default_tensor_type("torch.NotATensor")
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type"):
            stepjit.set_default_tensor_type(stepjit.DoubleTensor)
        assert stepjit.ones(1).dtype is stepjit.float64
    finally:
        stepjit.set_default_dtype(stepjit.float32)
    a = np.arange(3.0)
    t = stepjit.asarray(a)
    a[0] = 7.0
    assert t[0].item() == 7.0 and t.dtype is stepjit.float64   # shares the array's memory
    assert x.sum() == 0
