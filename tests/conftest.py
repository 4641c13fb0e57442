"""Shared test setup: every test starts with grad mode on and a fixed seed.

The suite tests the compiler, so a trace's first call runs compiled here
(STEPJIT_FIRST_CALL=compile, inherited by the processes tests start): by default it is
interpreted, and a test that calls a compiled step once would compare the interpreter with
eager. tests/runtime/test_first_call.py tests the default."""
import os

import pytest

os.environ.setdefault("STEPJIT_FIRST_CALL", "compile")

import stepjit  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_state():
    stepjit.manual_seed(0)
    stepjit.set_grad_enabled(True)
    yield
    stepjit.set_grad_enabled(True)


@pytest.fixture
def fresh_kernels(tmp_path, monkeypatch):
    """An empty kernel cache (tmp_path), and no kernel or program that another test built in
    this process: what a test gets is built, and counted in kernels.STATS, here."""
    from stepjit.codegen import kernels
    from stepjit.runtime import tree
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    saved = dict(kernels._KERNELS)
    kernels._KERNELS.clear()
    tree.clear_programs()
    yield tmp_path
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    tree.clear_programs()


@pytest.fixture(params=["fast", "generic"])
def forward_path(request, monkeypatch):
    """Run a test once on eager dispatch's fast paths (one- and two-input signature keys,
    `x[mask] = number`, one-operand in-place writes) and once with them off (`dispatch.FAST`).
    Modules opt in with `pytestmark`."""
    from stepjit import dispatch
    if request.param == "generic":
        monkeypatch.setattr(dispatch, "FAST", False)
    return request.param


@pytest.fixture(autouse=True)
def _collectives_alone(request):
    """The collective primitives (all_reduce) run on a group of one process in every test, so
    registry-driven tests (samples, gradients, backends, edge cases) run them without MPI.
    tests/distributed, which tests the process group itself, starts with none (as a user does)
    and runs collectives on two real processes."""
    from stepjit.ir.primitives import collective
    saved = collective.World.group
    alone = "tests/distributed" not in request.node.nodeid.replace("\\", "/")
    collective.set_world(collective.Alone() if alone else None)
    yield
    collective.set_world(saved)
