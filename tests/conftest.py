"""Shared test setup: every test starts with grad mode on and a fixed seed."""
import pytest

import stepjit


@pytest.fixture(autouse=True)
def _fresh_state():
    stepjit.manual_seed(0)
    stepjit.set_grad_enabled(True)
    yield
    stepjit.set_grad_enabled(True)


@pytest.fixture(params=["fast", "generic"])
def forward_path(request, monkeypatch):
    """Run a test once on eager dispatch's fast paths (one- and two-input signature keys,
    `x[mask] = number`, one-operand in-place writes) and once with them off (`dispatch.FAST`).
    Modules opt in with `pytestmark`."""
    from stepjit import dispatch
    if request.param == "generic":
        monkeypatch.setattr(dispatch, "FAST", False)
    return request.param
