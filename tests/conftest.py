"""Shared test setup: every test starts with grad mode on and a fixed seed."""
import pytest

import stepjit


@pytest.fixture(autouse=True)
def _fresh_state():
    stepjit.manual_seed(0)
    stepjit.set_grad_enabled(True)
    yield
    stepjit.set_grad_enabled(True)
