"""A compiled step that prints prints on every call, as eagerly: a replayed trace would not
print, even the same text (tracer/values.py's Watch notes the print; its trace describes that
call only). A step that prints on every call then runs its Python on every call, with no
warning; one that prints now and then replays the calls in between (a small step printing
every few calls runs eagerly instead, config.dynamo.one_shot_gap)."""
import contextlib
import io
import warnings

import numpy as np

import stepjit as torch

CALLS = 12
t = 0       # the loop's counter, a global as in a script (traced symbolically from its change)


def _make(lr, every):
    w = torch.ones(3, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        if t % every == every - 1:
            print("loss", loss.item())
        if every == 1:
            print("step done")
        with torch.no_grad():
            w.sub_(lr * w.grad)
            w.grad.zero_()
        return loss
    return step, w


def _run(compiled, lr, every):
    global t
    step, w = _make(lr, every)
    f = torch.compile(step, backend="interpret") if compiled else step
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for t in range(CALLS):
            f(torch.ones(3))
    warned = [str(m.message) for m in caught if "stepjit" in str(m.message)]
    return out.getvalue(), w.detach().numpy().copy(), f, warned


def test_printing_every_call_prints_every_call():
    for lr in (0.0, 0.1):        # (0.0: the same text every call, which a replay would skip)
        text, w, _, _ = _run(False, lr, 1)
        got, wc, f, warned = _run(True, lr, 1)
        assert got == text and got.count("\n") == 2 * CALLS
        np.testing.assert_allclose(wc, w, rtol=1e-6)
        st = f.stats()
        # two traces, then one more each time per-call mode tries the tree again (after 8
        # calls) and the step prints at once again
        assert st["mode"] == "per-call retracing" and st["traces"] == 4, st
        assert st["fallbacks"] == 0 and not warned, (st, warned)


def test_printing_now_and_then_replays_in_between(monkeypatch):
    # (a large step, as far as the runtime is concerned: a small one printing every 4 calls
    # runs eagerly, a full trace costing more than the eager calls it would spare)
    monkeypatch.setattr(torch.config.dynamo, "per_call_eager_below", 0)
    text, w, _, _ = _run(False, 0.0, 4)
    got, wc, f, _ = _run(True, 0.0, 4)
    assert got == text and got.count("\n") == CALLS // 4
    np.testing.assert_allclose(wc, w, rtol=1e-6)
    st = f.stats()
    assert st["mode"] == "tree" and st["fallbacks"] == 0, st
