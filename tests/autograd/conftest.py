"""`backward_path`: run a test once on the straight-line VJP functions (derived on a plan's
first backward, so that every graph a test builds takes them) and once on the generic path
(stepjit/autograd/array_vjp.py). Modules opt in with `pytestmark`."""
import pytest

from stepjit.autograd import array_vjp


@pytest.fixture(params=["straight-line", "generic"])
def backward_path(request, monkeypatch):
    if request.param == "generic":
        monkeypatch.setattr(array_vjp, "ENABLED", False)
    else:
        monkeypatch.setattr(array_vjp, "WARM_AFTER", 0)
    return request.param
