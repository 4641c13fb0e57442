"""Python side effects a compiled step makes on containers it can reach (a global list it
appends to, a dict it fills, a set it adds to, a list on an object or in a closure) happen on
every call, as eagerly (tracer/values.py: side_effects). Scalars added at the end are taken
back after the trace and added by the write-back of every call, traced or replayed; any other
change (an object appended, an entry removed) makes the step's Python run on every call, with
a warning naming the container. Each case runs the same step eagerly and compiled and compares
the containers and the parameters after every call."""
import numpy as np
import pytest

import stepjit as torch

LOG = []
COUNTS = {}
SEEN = set()
RECORDS = []


class Recorder:
    def __init__(self):
        self.history = []


REC = Recorder()


def _make(case):
    """A training step whose only Python side effect is the one named by case."""
    w = torch.ones(3, requires_grad=True)
    history = REC.history

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        if case == "global list":
            LOG.append("step")
        elif case == "dict":
            COUNTS["a"] = "step"
            COUNTS["b"] = 1
        elif case == "set":
            SEEN.add("step")
        elif case == "attribute list":
            REC.history.append("step")
        elif case == "closure list":
            history.append(None)
        elif case == "numbered list":        # the value depends on the list's length
            LOG.append(len(LOG))
        elif case == "numbered dict":
            COUNTS[len(COUNTS)] = "step"
        elif case == "object appended":
            RECORDS.append({"step": len(RECORDS)})
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return step, w


def _read():
    return list(LOG), dict(COUNTS), set(SEEN), list(REC.history), list(RECORDS)


def _clear():
    for c in (LOG, COUNTS, SEEN, REC.history, RECORDS):
        c.clear()


REPLAYED = ["global list", "dict", "set", "attribute list", "closure list"]
CALLS = 12     # past the re-verifications of a replayed trace (its 1st and 8th reuse)


def _eager_and_compiled(case, backend="interpret", calls=CALLS):
    _clear()
    step, w = _make(case)
    expected = []
    for _ in range(calls):
        step(torch.ones(3))
        expected.append((_read(), w.detach().numpy().copy()))
    _clear()
    step, w = _make(case)
    compiled = torch.compile(step, backend=backend)
    for i in range(calls):
        compiled(torch.ones(3))
        assert _read() == expected[i][0], f"{case}, call {i}"
        np.testing.assert_allclose(w.detach().numpy(), expected[i][1], rtol=1e-6)
    return compiled


@pytest.mark.parametrize("case", REPLAYED)
def test_added_scalars_are_replayed_every_call(case, recwarn):
    compiled = _eager_and_compiled(case)
    st, plain = compiled.stats(), _eager_and_compiled("nothing").stats()
    # replayed, not retraced: as many traces as the same step without the side effect
    assert st["mode"] == "tree" and st["traces"] == plain["traces"] <= 2, (st, plain)
    assert not [w for w in recwarn if "stepjit" in str(w.message)]


def test_native_fast_call_replays_the_append():
    # past the reuse (64) that promotes the leaf to the generated fast call (fastcall.py)
    compiled = _eager_and_compiled("global list", backend="cpu", calls=70)
    assert compiled.stats()["mode"] == "tree"


@pytest.mark.parametrize("case", ["numbered list", "numbered dict"])
def test_added_values_that_change_every_call(case):
    # a replay would add the first call's value again: the re-verification of the trace
    # sees other entries, and the step's Python runs on every call from then on
    _eager_and_compiled(case)


def test_an_object_appended_runs_the_python_every_call():
    with pytest.warns(UserWarning, match=r"changes global RECORDS in a way a replayed trace"):
        compiled = _eager_and_compiled("object appended")
    assert compiled.stats()["mode"] == "per-call retracing"


def _branching(append):
    w = torch.ones(3, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        if loss.item() > 2.0 and append:
            LOG.append("big")
        loss.backward()
        with torch.no_grad():
            w.sub_(0.05 * w.grad)
            w.grad.zero_()
        return loss
    return step


def _branch_inputs():
    return [torch.ones(3) * (2.0 if i % 3 == 0 else 0.1) for i in range(CALLS)]


def test_a_list_appended_on_one_branch_does_not_guard_the_other():
    # the branch that does not append must not read the list's length or items as config:
    # as many traces as without the append, and every call's append made
    _clear()
    eager = _branching(True)
    for x in _branch_inputs():
        eager(x)
    expected = list(LOG)
    _clear()
    compiled = torch.compile(_branching(True), backend="interpret")
    for x in _branch_inputs():
        compiled(x)
    assert LOG == expected and len(LOG) == 4
    plain = torch.compile(_branching(False), backend="interpret")
    for x in _branch_inputs():
        plain(x)
    st, plain = compiled.stats(), plain.stats()
    assert st["mode"] == "tree" and st["traces"] == plain["traces"], (st, plain)


CFG = {"scale": 1.0}


def test_a_dict_the_step_adds_to_keeps_its_other_entries_guarded():
    # the step adds a key to a dict that also holds a value it reads: a change of that value
    # between calls is still followed
    def make():
        w = torch.ones(3, requires_grad=True)

        def step(x):
            loss = (w * x * CFG["scale"]).sum()
            loss.backward()
            CFG["ran"] = True
            with torch.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad.zero_()
            return loss
        return step
    results = []
    for compiled in (False, True):
        CFG.clear()
        CFG["scale"] = 1.0
        step = make()
        step = torch.compile(step, backend="interpret") if compiled else step
        out = []
        for i in range(8):
            if i == 5:
                CFG["scale"] = 3.0
            out.append(float(step(torch.ones(3))))
        results.append((out, dict(CFG)))
    assert results[0] == results[1]
