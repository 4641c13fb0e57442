"""`.numpy()` and `.tolist()` on a traced tensor inside a compiled step: the values leave for
Python the tracer cannot watch, so the trace of such a call describes that call only. A step
that does so on every call runs its Python on every call (traced each call, programs reused),
with one warning naming the user's line; one that does so now and then (a plot every k steps)
replays the calls in between. Never a TraceError, never a replay that skips what the Python
did with the values."""
import contextlib
import io
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
        fn()       # (one call's trace: the second call's, doing it again, makes it per-call)
        eager()
        fn()
        eager()
    for _ in range(10):   # past the recompile limit
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


t = 0   # a script's loop counter, read by the step as a global (traced symbolically)


def _plotting_now_and_then(every):
    stepjit.manual_seed(2)
    w = stepjit.randn(3, 2, requires_grad=True)
    x = stepjit.randn(4, 3)

    def step():
        pred = x @ w
        loss = (pred ** 2).mean()
        loss.backward()
        with stepjit.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        if t % every == 0:      # MorvanZhou's tutorials plot every few steps
            a = pred.detach().numpy()
            print(t, np.round(a, 3).tolist(), np.round(loss.detach().numpy(), 4).tolist())
        return loss
    return step, w


def _calls(f, w, calls):
    out = io.StringIO()
    losses, weights = [], []
    global t
    for t in range(calls):
        with contextlib.redirect_stdout(out):
            losses.append(f().item())
        weights.append(w.detach().numpy().copy())
        losses.append(out.getvalue())     # what was printed, after every call
    return losses, weights


@pytest.mark.parametrize("every,large", [(5, True), (5, False), (70, False)],
                         ids=["every-5-large", "every-5-small", "every-70-small"])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_values_handed_out_now_and_then(backend, every, large, monkeypatch):
    """Replayed in between, except for a small step that does so every few calls (fewer than
    config.dynamo.one_shot_gap between), which runs eagerly per call: a full trace costs more than the eager
    calls it would spare. `large`: the step treated as large (per_call_eager_below = 0)."""
    if large:
        monkeypatch.setattr(stepjit.config.dynamo, "per_call_eager_below", 0)
    monkeypatch.setattr(stepjit.config.dynamo, "one_shot_gap", 64)   # (short runs)
    calls = 4 * every + 3
    eager, we = _plotting_now_and_then(every)
    step, wc = _plotting_now_and_then(every)
    fn = stepjit.compile(step, backend=backend)
    exact = backend == "interpret"
    want, want_w = _calls(eager, we, calls)
    got, got_w = _calls(fn, wc, calls)
    for a, b in zip(got, want):
        if isinstance(a, str) or exact:
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5)
    for a, b in zip(got_w, want_w):
        np.testing.assert_allclose(a, b, rtol=0 if exact else 1e-5)
    st = fn.stats()
    assert st["fallbacks"] == 0, st
    if every == 5 and not large:
        assert st["mode"] == "per-call retracing" and st["eager_calls"] >= calls - 12, st
    else:
        # traced: the 5 printing calls (one call each), the first other call and the one that
        # makes t symbolic; the other calls replay a compiled trace
        assert st["mode"] == "tree" and st["eager_calls"] == 0 and st["traces"] <= 7, st
