"""Python side effects a compiled step makes on containers it can reach (a global list it
appends to, a dict it fills, a set it adds to, a list on an object) happen on every call, as
eagerly: a trace that changed such a container describes that call only (tracer/values.py),
so the step's Python runs on every call. Each case runs the same step eagerly and compiled
and compares the containers after every call."""
import pytest

import stepjit as torch

LOG = []
COUNTS = {}
SEEN = set()


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
            COUNTS[len(COUNTS)] = "step"
        elif case == "set":
            SEEN.add(len(SEEN))
        elif case == "attribute list":
            REC.history.append("step")
        else:
            history.append("closure")
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return step, w


CASES = {
    "global list": (lambda: list(LOG), LOG.clear),
    "dict": (lambda: dict(COUNTS), COUNTS.clear),
    "set": (lambda: set(SEEN), SEEN.clear),
    "attribute list": (lambda: list(REC.history), REC.history.clear),
    "closure list": (lambda: list(REC.history), REC.history.clear),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_container_side_effects_happen_every_call(case):
    read, clear = CASES[case]
    clear()
    step, w = _make(case)
    for _ in range(6):
        step(torch.ones(3))
    expected, w_expected = read(), w.detach().numpy().copy()
    clear()
    step, w = _make(case)
    compiled = torch.compile(step, backend="interpret")
    with pytest.warns(UserWarning, match=r"changes .* entries\), which a replayed trace"):
        compiled(torch.ones(3))
    for _ in range(5):
        compiled(torch.ones(3))
    assert read() == expected, f"{case}: eager made {expected}, compiled {read()}"
    assert (w.detach().numpy() == w_expected).all()
