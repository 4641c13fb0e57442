"""nn.functional helpers that are not losses: linear, dropout, one_hot, softmax."""
import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F
from stepjit.autograd import gradcheck


def test_linear_matches_numpy_and_gradchecks():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    t = [stepjit.tensor(a, dtype=stepjit.float64, requires_grad=True) for a in (x, w, b)]
    np.testing.assert_allclose(F.linear(*t).detach().numpy(), x @ w.T + b)
    np.testing.assert_allclose(F.linear(t[0], t[1]).detach().numpy(), x @ w.T)
    assert gradcheck(F.linear, t)


def test_functional_dropout_respects_training_flag():
    x = stepjit.ones(10)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError):
        F.dropout(x, -0.1)


def test_one_hot():
    got = F.one_hot(stepjit.tensor([0, 2, 1]))
    assert got.dtype is stepjit.int64
    np.testing.assert_array_equal(got.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(stepjit.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError):
        F.one_hot(stepjit.tensor([1.0]))


def test_log_softmax_gradcheck():
    x = stepjit.randn(3, 4, dtype=stepjit.float64, requires_grad=True)
    assert gradcheck(lambda a: F.log_softmax(a, dim=1), x)
    assert gradcheck(lambda a: F.softmax(a, dim=0), x)


def test_functional_dropout_inplace_writes_input():
    stepjit.manual_seed(3)
    x = stepjit.ones(50)
    y = F.dropout(x, 0.5, training=True, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


# -- deprecated names of interpolate -----------------------------------------------------
@pytest.mark.parametrize("call", [lambda F, x: F.upsample(x, scale_factor=2, mode="nearest"),
                                  lambda F, x: F.upsample(x, size=(6, 8)),
                                  lambda F, x: F.upsample_nearest(x, scale_factor=2)],
                         ids=["upsample", "upsample_size", "upsample_nearest"])
def test_upsample_is_interpolate_with_a_deprecation_warning(call):
    x = stepjit.arange(12.0).reshape(1, 1, 3, 4)
    with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate`"):
        out = call(F, x)
    want = np.repeat(np.repeat(x.numpy(), 2, axis=2), 2, axis=3)
    np.testing.assert_array_equal(out.numpy(), want)
