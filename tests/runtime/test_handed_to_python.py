"""`.numpy()` and `.tolist()` on a traced tensor inside a compiled step: the values leave for
Python the tracer cannot watch, so the step runs its Python on every call (traced each call,
programs reused), with one warning naming the user's line; never a TraceError, never a replay
that skips what the Python did with the values."""
import re

import numpy as np
import pytest

import stepjit


def _make(how):
    stepjit.manual_seed(1)
    w = stepjit.randn(3, 2, requires_grad=True)
    x = stepjit.randn(4, 3)
    seen = []

    def step():
        pred = x @ w
        loss = (pred ** 2).mean()
        if how == "numpy":
            y = pred.detach().numpy()
            seen.append(float(np.abs(y).max()))
        else:
            seen.append(pred.detach().argmax(1).tolist())
        loss.backward()
        with stepjit.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss
    return step, seen, w


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("how", ["numpy", "tolist"])
def test_values_handed_to_python_run_the_step_every_call(how, backend):
    eager, eager_seen, we = _make(how)
    step, seen, wc = _make(how)
    fn = stepjit.compile(step, backend=backend)
    what = ".numpy()" if how == "numpy" else ".tolist()"
    with pytest.warns(UserWarning, match=re.escape(what) + r" at test_handed_to_python.py:\d+: `"):
        fn()
    eager()
    for _ in range(11):   # past the recompile limit
        fn()
        eager()
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "per-call retracing", st
    assert len(seen) == 12
    if backend == "interpret":
        assert seen == eager_seen
        np.testing.assert_array_equal(wc.detach().numpy(), we.detach().numpy())
    else:
        np.testing.assert_allclose(np.array(seen, float), np.array(eager_seen, float), rtol=1e-5)
        np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-5)


def test_the_array_a_trace_hands_out_is_read_only():
    # PyTorch's array shares the tensor's memory; a trace's cannot, so writing it is refused
    # rather than silently lost
    def step(x):
        a = (x * 2).numpy()
        a[0] = 5.0
        return x
    with pytest.raises(ValueError, match="read-only"):
        stepjit.compile(step, backend="interpret")(stepjit.ones(3))

