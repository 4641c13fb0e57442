"""torch.<op>_(x) function forms of in-place methods (the introyt tensors tutorial prints
torch.sin_(b) and then b), and the in-place unary math methods PyTorch has (x.asin_(),
x.nan_to_num_(), ...): the same values as the out-of-place op, stored into x, autograd's
rules for in-place ops kept."""
import math

import numpy as np
import pytest

import stepjit
from stepjit.ops.methods import INPLACE_FUNCTIONS

X = [0.1, 0.4, 0.7]


@pytest.mark.parametrize("name", ["sin_", "asin_", "tan_", "sinh_", "erfc_", "exp2_", "fix_",
                                  "deg2rad_", "negative_", "sigmoid_", "sqrt_", "abs_"])
def test_function_form_changes_its_argument(name):
    x = stepjit.tensor(X, dtype=stepjit.float64)
    want = getattr(stepjit.tensor(X, dtype=stepjit.float64), name[:-1])()
    out = getattr(stepjit, name)(x)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), want.numpy())


def test_the_tutorial_lines():
    b = stepjit.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    shown = stepjit.sin_(b)
    np.testing.assert_allclose(b.numpy(), np.sin([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4]),
                               rtol=1e-6, atol=1e-7)
    assert shown is b


def test_arguments_pass_through():
    x = stepjit.tensor([float("nan"), 1.0, float("inf")])
    stepjit.nan_to_num_(x, posinf=5.0)
    np.testing.assert_array_equal(x.numpy(), [0.0, 1.0, 5.0])
    y = stepjit.tensor([-2.0, 0.5, 3.0])
    stepjit.clamp_(y, -1, 1)
    np.testing.assert_array_equal(y.numpy(), [-1.0, 0.5, 1.0])


def test_autograd_rules_hold():
    w = stepjit.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        stepjit.sin_(w)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 1.0])
    h = w * 0.5
    stepjit.asin_(h)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.5 / math.sqrt(1 - 0.25)] * 2, rtol=1e-6)


def test_every_name_is_a_method():
    for name in INPLACE_FUNCTIONS:
        assert hasattr(stepjit.Tensor, name) and callable(getattr(stepjit, name)), name


def test_names_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name in INPLACE_FUNCTIONS:
        assert hasattr(torch, name) and hasattr(torch.Tensor, name), name
