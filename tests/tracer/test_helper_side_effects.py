"""Python state a compiled step changes through the functions it calls (helpers in this
module or another, methods, hooks in a list, a function handed to it), which its own names do
not reach: each change is made on every call, as eagerly, either by the write-back (a scalar
appended, an attribute added) or by running the step's Python on every call, with one warning
naming the helper's line (tracer/helpers.py, tracer/values.py). Each case runs the same step
eagerly and compiled and compares the helpers' state and the parameters after every call,
then empties that state, as a loop that drains its log does."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from tests.tracer import side_effect_helpers as H
from tests.tracer.side_effect_helpers import record as imported_record

LOCAL_LOG = []


def _log_here(tag):
    LOCAL_LOG.append(tag)


HOOKS = [H.record]


def _make(case):
    w = torch.ones(3, requires_grad=True)

    def step(x, fn=None):
        loss = (w * x).sum()
        loss.backward()
        if case == "other module":
            H.record("step")
        elif case == "nested helper":
            H.record_nested("step")
        elif case == "same module":
            _log_here("step")
        elif case == "imported name":
            imported_record("step")
        elif case == "method":
            H.note("step")
        elif case == "hook list":
            for hook in HOOKS:
                hook("step")
        elif case == "argument":
            fn("step")
        elif case == "new attribute":
            H.stamp()
        elif case == "dict entry":
            H.tally("step")
        elif case == "global counter":
            H.count()
        elif case == "attribute counter":
            H.tick()
        elif case == "tensor kept":
            H.keep(loss)
        elif case == "outside tensor kept":
            H.keep_outside(w)
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return step, w


def _read():
    return H.state(), list(LOCAL_LOG)


def _clear():
    H.reset()
    LOCAL_LOG.clear()


CALLS = 12     # past the re-verifications of a replayed trace (its 1st and 8th reuse)


def _eager_and_compiled(case, calls=CALLS, backend="interpret"):
    arg = (H.record,) if case == "argument" else ()
    _clear()
    step, w = _make(case)
    expected = []
    for _ in range(calls):
        step(torch.ones(3), *arg)
        expected.append((_read(), w.detach().numpy().copy()))
        _clear()    # (a loop that drains its log: a set made once and never again would show)
    step, w = _make(case)
    compiled = torch.compile(step, backend=backend)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            compiled(torch.ones(3), *arg)
            assert _read() == expected[i][0], f"{case}, call {i}"
            np.testing.assert_allclose(w.detach().numpy(), expected[i][1], rtol=1e-6)
            _clear()
    assert compiled.stats()["fallbacks"] == 0
    return compiled, [str(m.message) for m in caught if "stepjit" in str(m.message)]


REPLAYED = ["other module", "nested helper", "same module", "imported name", "method",
            "hook list", "argument", "new attribute", "dict entry",
            # a number set from guarded values (a counter: `CALLS += 1`): replayed, then read per
            # call once it changes between calls (tracer/results.py, symbolic.py)
            "global counter", "attribute counter",
            # a tensor the step made, appended: a fresh one holding its value after every call
            "tensor kept"]


@pytest.mark.parametrize("case", REPLAYED)
def test_helper_appends_are_replayed_every_call(case):
    compiled, warned = _eager_and_compiled(case)
    plain = _eager_and_compiled("nothing")[0].stats()
    st = compiled.stats()
    # replayed, not retraced: as many traces as the same step without the helper
    assert st["mode"] == "tree" and st["traces"] == plain["traces"] <= 2, (st, plain)
    assert not warned


@pytest.mark.parametrize("case, line", [
    ("outside tensor kept", "KEPT.append(w)"),
])
def test_helper_changes_no_replay_makes_run_every_call(case, line):
    compiled, warned = _eager_and_compiled(case)
    assert compiled.stats()["mode"] == "per-call retracing"
    assert len(warned) == 1 and "side_effect_helpers.py" in warned[0] and line in warned[0], warned


def test_helper_append_replayed_by_the_native_fast_call():
    # past the reuse (64) that promotes the leaf to the generated fast call (fastcall.py)
    compiled, _ = _eager_and_compiled("other module", calls=70, backend="cpu")
    assert compiled.stats()["mode"] == "tree"


def test_a_tensor_a_helper_reads_from_its_module_is_guarded():
    # rebinding the helper module's global between calls: the next call reads the new tensor
    import stepjit as st
    H.WEIGHT = st.ones(3)
    compiled = st.compile(lambda x: H.project(x), backend="interpret")
    got = []
    for i in range(6):
        if i == 3:
            H.WEIGHT = st.full((3,), 2.0)
        got.append(float(compiled(st.ones(3))))
    assert got == [3.0, 3.0, 3.0, 6.0, 6.0, 6.0]
