"""`backward_path`: run a test on each way eager backward can run:
  - "straight-line": the engine, with the straight-line VJP functions (derived on a plan's first
    backward, so that every graph a test builds takes them; stepjit/autograd/array_vjp.py);
  - "generic": the engine, the registry's rules run op by op;
  - "tape": the engine's walk unrolled into a function (stepjit/autograd/tape.py), written on a
    tape's first backward.
Modules opt in with `pytestmark`."""
import pytest

from stepjit.autograd import array_vjp, tape


@pytest.fixture(params=["straight-line", "generic", "tape"])
def backward_path(request, monkeypatch):
    if request.param == "tape":
        monkeypatch.setattr(array_vjp, "WARM_AFTER", 0)
        monkeypatch.setattr(tape, "WARM_AFTER", 0)
        monkeypatch.setattr(tape, "_TAPES", {})
        monkeypatch.setattr(tape, "_BY_ROOT", {})
        return request.param
    monkeypatch.setattr(tape, "ENABLED", False)
    if request.param == "generic":
        monkeypatch.setattr(array_vjp, "ENABLED", False)
    else:
        monkeypatch.setattr(array_vjp, "WARM_AFTER", 0)
    return request.param
