"""torch.autograd.set_detect_anomaly / detect_anomaly (the tuning guide's "turn debugging APIs
off", and scripts that turn them on to find a NaN): with anomaly detection on, the backward
node whose gradient holds a NaN raises, named as PyTorch names it."""
import math

import pytest

import stepjit as torch


def _nan_at_sqrt():
    x = torch.tensor([0.0, 4.0], requires_grad=True)
    return x, (x.sqrt() * 0.0).sum()     # d sqrt / dx at 0 is inf; inf * 0 gives NaN


def test_off_by_default_the_nan_reaches_the_gradient():
    assert not torch.is_anomaly_enabled()
    x, y = _nan_at_sqrt()
    y.backward()
    assert math.isnan(x.grad[0].item())


def test_detect_anomaly_names_the_node_that_made_a_nan():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = torch.autograd.detect_anomaly()
    with ctx:
        assert torch.is_anomaly_enabled()
        x, y = _nan_at_sqrt()
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0' returned nan values "
                                               r"in its 0th output"):
            y.backward()
    assert not torch.is_anomaly_enabled()


def test_set_detect_anomaly_sets_now_and_restores_as_a_context():
    torch.autograd.set_detect_anomaly(True)
    try:
        assert torch.is_anomaly_enabled() and torch.is_anomaly_check_nan_enabled()
        with torch.autograd.set_detect_anomaly(False):
            x, y = _nan_at_sqrt()
            y.backward()                      # off inside: no check
            assert math.isnan(x.grad[0].item())
        assert torch.is_anomaly_enabled()
        with torch.autograd.set_detect_anomaly(True, check_nan=False):
            _nan_at_sqrt()[1].backward()      # on without the NaN check
    finally:
        torch.autograd.set_detect_anomaly(False)
    assert not torch.is_anomaly_enabled()
