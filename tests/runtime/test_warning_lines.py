"""A compiled step's warnings name the user's line (the call of the step), whatever path the
runtime took to them: the first call, a miss, a retrace for one call only."""
import random
import warnings

import stepjit


def _warnings_of(step, calls):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(calls):
            step()                                   # the line each warning names
    return [w for w in seen if "stepjit:" in str(w.message)]


def _sgd(w, loss):
    loss.backward()
    with stepjit.no_grad():
        w.sub_(0.1 * w.grad)
        w.grad = None


def test_a_nondeterministic_step_warns_at_its_call():
    w = stepjit.ones(3, requires_grad=True)

    @stepjit.compile
    def step():
        loss = (w * random.random()).sum()
        _sgd(w, loss)
        return loss
    seen = _warnings_of(step, 3)
    assert seen and all(x.filename == __file__ for x in seen), [(x.filename, x.lineno) for x in seen]


def test_values_handed_to_python_warn_at_the_call():
    w = stepjit.ones(3, requires_grad=True)
    kept = []

    @stepjit.compile
    def step():
        loss = (w * 2).sum()
        kept.append((w * 2).detach().tolist())
        _sgd(w, loss)
        return loss
    seen = _warnings_of(step, 3)
    assert seen and all(x.filename == __file__ for x in seen), [(x.filename, x.lineno) for x in seen]
