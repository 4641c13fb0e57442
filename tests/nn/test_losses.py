"""Losses: values against hand-written NumPy formulas, gradients against finite differences."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit.autograd import gradcheck

RNG = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def _reduce(a, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](a)


def _t(a, requires_grad=False):
    return stepjit.tensor(a, dtype=stepjit.float64, requires_grad=requires_grad)


def _log_softmax(x, axis=1):
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))
P = RNG.uniform(0.05, 0.95, (4, 3))
B = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
LABELS = np.array([0, 2, 1, 2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    np.testing.assert_allclose(nn.MSELoss(reduction=reduction)(_t(X), _t(Y)).numpy(),
                               _reduce((X - Y) ** 2, reduction))
    np.testing.assert_allclose(nn.L1Loss(reduction=reduction)(_t(X), _t(Y)).numpy(),
                               _reduce(np.abs(X - Y), reduction))
    assert gradcheck(lambda a: F.mse_loss(a, _t(Y), reduction=reduction), _t(X, True))
    assert gradcheck(lambda a: F.l1_loss(a, _t(Y), reduction=reduction), _t(X, True))


def test_loss_names_and_bad_reduction():
    assert F.mse_loss(_t(X, True), _t(Y)).grad_fn.name() == "MseLossBackward0"
    assert F.cross_entropy(_t(X, True), stepjit.tensor(LABELS)).grad_fn.name() == "NllLossBackward0"
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(_t(X), _t(Y), reduction="avg")
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(_t(X), _t(Y[0]))


def test_legacy_size_average_and_reduce():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    ref = -(B * np.log(P) + (1 - B) * np.log(1 - P))
    np.testing.assert_allclose(nn.BCELoss(reduction=reduction)(_t(P), _t(B)).numpy(),
                               _reduce(ref, reduction))
    w = RNG.uniform(size=3)
    np.testing.assert_allclose(nn.BCELoss(weight=_t(w), reduction=reduction)(_t(P), _t(B)).numpy(),
                               _reduce(ref * w, reduction))
    assert gradcheck(lambda a: F.binary_cross_entropy(a, _t(B), reduction=reduction), _t(P, True))


def test_bce_clamps_log_at_minus_100_with_finite_gradient():
    x = _t([0.0, 1.0, 0.5], True)
    y = _t([1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, np.log(2)])
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    with pytest.raises(ValueError):
        F.binary_cross_entropy(_t(P), _t(B[0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    sig = 1 / (1 + np.exp(-X))
    ref = -(B * np.log(sig) + (1 - B) * np.log(1 - sig))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(reduction=reduction)(_t(X), _t(B)).numpy(),
                               _reduce(ref, reduction))
    pw = np.array([0.5, 2.0, 3.0])
    ref_pw = -(pw * B * np.log(sig) + (1 - B) * np.log(1 - sig))
    got = nn.BCEWithLogitsLoss(pos_weight=_t(pw), reduction=reduction)(_t(X), _t(B))
    np.testing.assert_allclose(got.numpy(), _reduce(ref_pw, reduction))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, _t(B), reduction=reduction),
                     _t(X, True))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, _t(B), pos_weight=_t(pw),
                                                                 reduction=reduction), _t(X, True))


def test_bce_with_logits_is_stable_and_exact_at_zero():
    x = _t([1000.0, -1000.0, 0.0, 0.0], True)
    y = _t([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1000.0, 1000.0, np.log(2), np.log(2)])
    loss.sum().backward()
    # d/dx = sigmoid(x) - y; at x == 0 that is 0.5 - y (zero-initialized logits hit this).
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5, 0.5])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll_with_class_indices(reduction):
    target = stepjit.tensor(LABELS)
    picked = -_log_softmax(X)[np.arange(4), LABELS]
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction=reduction)(_t(X), target).numpy(),
                               _reduce(picked, reduction))
    np.testing.assert_allclose(nn.NLLLoss(reduction=reduction)(_t(X), target).numpy(),
                               _reduce(-X[np.arange(4), LABELS], reduction))
    assert gradcheck(lambda a: F.cross_entropy(a, target, reduction=reduction), _t(X, True))


def test_cross_entropy_weight_and_ignore_index():
    w = np.array([0.2, 1.0, 3.0])
    labels = np.array([0, 2, -100, 1])
    target = stepjit.tensor(labels)
    keep = labels != -100
    per = -_log_softmax(X)[np.arange(4)[keep], labels[keep]] * w[labels[keep]]
    got = F.cross_entropy(_t(X), target, weight=_t(w))
    np.testing.assert_allclose(got.numpy(), per.sum() / w[labels[keep]].sum())
    none = F.cross_entropy(_t(X), target, weight=_t(w), reduction="none").numpy()
    np.testing.assert_allclose(none[keep], per)
    assert none[2] == 0
    assert gradcheck(lambda a: F.cross_entropy(a, target, weight=_t(w)), _t(X, True))


def test_cross_entropy_with_probabilities():
    probs = np.exp(_log_softmax(Y))
    ref = -(probs * _log_softmax(X)).sum(1)
    np.testing.assert_allclose(F.cross_entropy(_t(X), _t(probs)).numpy(), ref.mean())
    np.testing.assert_allclose(F.cross_entropy(_t(X), _t(probs), reduction="none").numpy(), ref)
    assert gradcheck(lambda a: F.cross_entropy(a, _t(probs)), _t(X, True))


def test_cross_entropy_label_smoothing():
    eps = 0.1
    soft = np.full((4, 3), eps / 3)
    soft[np.arange(4), LABELS] += 1 - eps
    ref = -(soft * _log_softmax(X)).sum(1).mean()
    got = F.cross_entropy(_t(X), stepjit.tensor(LABELS), label_smoothing=eps)
    np.testing.assert_allclose(got.numpy(), ref)


def test_cross_entropy_spatial_and_unbatched():
    x = RNG.standard_normal((2, 3, 5))
    labels = RNG.integers(0, 3, (2, 5))
    lp = _log_softmax(x, 1)
    ref = -np.take_along_axis(lp, labels[:, None], 1)[:, 0]
    np.testing.assert_allclose(F.cross_entropy(_t(x), stepjit.tensor(labels)).numpy(), ref.mean())
    got = F.cross_entropy(_t(X[0]), stepjit.tensor(LABELS[0]))
    np.testing.assert_allclose(got.numpy(), -_log_softmax(X[:1])[0, LABELS[0]])


def test_nll_loss_checks_target():
    with pytest.raises(RuntimeError, match="Long"):
        F.nll_loss(_t(X), _t(LABELS))
    with pytest.raises(ValueError, match="batch_size"):
        F.nll_loss(_t(X), stepjit.tensor(LABELS[:3]))
