"""A step that reads its loss into Python every call as an exact number (`print(t,
float(loss))`): its Python must run on every call. Compiled, it is traced on every call
(programs reused by structural hash), never replayed without its print, never stopped by the
recompile limit and run eagerly. One that prints or keeps `loss.item()` (`print(t,
loss.item())`, `losses.append(loss.item())`) and counts its calls in a list item replays, the
loss printed or appended and the counter written back by every call."""
import contextlib
import io

import numpy as np
import pytest

import stepjit


def _make(keep):
    stepjit.manual_seed(0)
    x, y = stepjit.randn(16, 8), stepjit.randn(16, 2)
    w1 = stepjit.randn(8, 8, requires_grad=True)
    w2 = stepjit.randn(8, 2, requires_grad=True)
    losses, t = [], [0]

    def step():
        loss = ((x.mm(w1).clamp(min=0).mm(w2) - y) ** 2).sum()
        if keep == "append":
            losses.append(loss.item())
        elif keep == "print":
            print(t[0], loss.item())    # (printed by each call's write-back: printing.py)
        else:
            print(t[0], float(loss))    # (a float read exactly, then printed at once)
        t[0] += 1
        loss.backward()
        with stepjit.no_grad():
            for w in (w1, w2):
                w -= 1e-3 * w.grad
                w.grad.zero_()
        return loss
    return step, losses, (w1, w2)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("keep", ["float", "print", "append"])
def test_reading_the_loss_every_call_matches_eager(keep, backend):
    calls = 12   # past the recompile limit (8)
    eager, eager_losses, eager_w = _make(keep)
    step, losses, ws = _make(keep)
    fn = stepjit.compile(step, backend=backend)
    outs = []
    for run in (eager, fn):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            for _ in range(calls):
                run()
        outs.append(buf.getvalue())
    st = fn.stats()
    # (a kept or printed `.item()` is a write of the trace, and the int counter `t[0] += 1` is
    # read per call (values.liftable): that step replays; one printing float(loss), a number
    # read exactly, runs its Python every call)
    assert st["fallbacks"] == 0, st
    assert st["mode"] == ("per-call retracing" if keep == "float" else "tree"), st
    assert st["programs_built"] <= 4, st   # the first traces cut at the decision; then one, reused
    if keep == "append":   # (the first call's is the traced number, which works as a float)
        assert len(losses) == calls and all(type(v) is float for v in losses[1:])
        losses = [float(v) for v in losses]
    if backend == "interpret":
        assert outs[1] == outs[0]
        assert losses == eager_losses
        for a, b in zip(ws, eager_w):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    else:
        assert len(outs[1].splitlines()) == (0 if keep == "append" else calls)
        np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
        for a, b in zip(ws, eager_w):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)


def test_a_per_call_trace_runs_no_full_garbage_collection(monkeypatch):
    """A step that keeps state alive (a rebound running mean) made every
    per-call trace run a full collection to tell state from garbage: ~0.1 s a call in a
    process holding a dataset, 25x the eager step of karpathy's batch-norm MLP. One call's
    trace only needs the young generations collected."""
    import gc
    step, _, _ = _make(keep="float")     # (printing float(loss): traced every call)
    running = [stepjit.zeros(2)]

    def with_state():
        loss = step()
        with stepjit.no_grad():
            running[0] = 0.9 * running[0] + 0.1 * loss   # state alive after every trace
        return loss

    c = stepjit.compile(with_state, backend="interpret")
    printed = [io.StringIO(), io.StringIO()]
    with contextlib.redirect_stdout(printed[0]):
        for _ in range(3):
            c()
        full = []
        real = gc.collect
        monkeypatch.setattr(gc, "collect", lambda *a: (full.append(a) if not a or a[0] >= 2
                                                        else None, real(*a))[1])
        for _ in range(4):
            c()
    assert c.mode != "tree" and not full
    eager_step, _, _ = _make(keep="float")
    with contextlib.redirect_stdout(printed[1]):
        for _ in range(7):
            eager_step()
    assert printed[0].getvalue() == printed[1].getvalue() != ""
