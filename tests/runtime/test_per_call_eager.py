"""Per-call steps (their Python runs every call) with small ops run eagerly: tracing every
call would cost more than their programs save (stepjit/runtime/per_call.py). Larger ones
stay traced, and a per-call trace does not compute again what it evaluated for the step's
Python (`loss.item()` evaluates the forward)."""
import contextlib
import io

import numpy as np
import pytest

import stepjit
from stepjit import config
from stepjit.runtime import per_call, tree
from stepjit.tracer.trace import trace


def _make(seed=0):
    stepjit.manual_seed(seed)
    x, y = stepjit.randn(16, 8), stepjit.randn(16, 2)
    w1 = stepjit.randn(8, 8, requires_grad=True)
    w2 = stepjit.randn(2, 8, requires_grad=True)   # used transposed: a view of a weight
    t = [0]

    def step():
        loss = ((x.mm(w1).clamp(min=0) @ w2.t() - y) ** 2).sum()
        print(t[0], float(loss))    # (read exactly: its Python runs every call)
        t[0] += 1
        loss.backward()
        with stepjit.no_grad():
            for w in (w1, w2):
                w -= 1e-3 * w.grad
                w.grad.zero_()
        return loss
    return step, (w1, w2)


def _run(fn, calls):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        outs = [float(fn()) for _ in range(calls)]
    return outs, buf.getvalue()


@pytest.fixture
def threshold():
    below = config.dynamo.per_call_eager_below
    yield lambda value: setattr(config.dynamo, "per_call_eager_below", value)
    config.dynamo.per_call_eager_below = below


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_small_per_call_step_runs_eagerly(backend):
    calls = 12
    eager, eager_w = _make()
    step, ws = _make()
    fn = stepjit.compile(step, backend=backend)
    want, want_text = _run(eager, calls)
    got, text = _run(fn, calls)
    st = fn.stats()
    assert st["mode"] == "per-call retracing" and st["fallbacks"] == 0, st
    assert st["eager_calls"] == calls - st["traces"] and st["traces"] <= 4, st
    if backend == "interpret":   # bit for bit, printed losses included
        assert got == want and text == want_text
        for a, b in zip(ws, eager_w):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    else:                        # the traced calls' kernels round differently
        assert len(text.splitlines()) == calls
        np.testing.assert_allclose(got, want, rtol=1e-5)
        for a, b in zip(ws, eager_w):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)
    with contextlib.redirect_stdout(io.StringIO()):
        out = fn()
    assert out.grad_fn is None and not out.requires_grad   # detached, as a compiled call's


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_with_the_threshold_off_a_per_call_step_is_traced_every_call(backend, threshold):
    threshold(0)
    calls = 10
    eager, eager_w = _make()
    step, ws = _make()
    fn = stepjit.compile(step, backend=backend)
    want, _ = _run(eager, calls)
    got, text = _run(fn, calls)
    st = fn.stats()
    assert st["eager_calls"] == 0 and st["traces"] == calls and st["fallbacks"] == 0, st
    assert len(text.splitlines()) == calls
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for a, b in zip(ws, eager_w):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_per_call_trace_does_not_compute_its_forward_twice(threshold, monkeypatch):
    """The forward the print evaluated (x @ w1, h @ w2.t()) is not in the programs a per-call
    trace runs: only the backward's three matmuls are. With the threshold under the step's
    sizes, it stays traced."""
    threshold(1)
    step, _ = _make(seed=1)
    fn = stepjit.compile(step, backend="cpu")
    _run(fn, 4)
    assert fn.stats()["mode"] == "per-call retracing"
    requested = []
    real = tree.get_program
    monkeypatch.setattr(tree, "get_program",
                        lambda graph, *a: requested.append(graph) or real(graph, *a))
    _run(fn, 2)
    st = fn.stats()
    assert st["eager_calls"] == 0 and st["traces"] == 6, st
    matmuls = sum(n.prim.name == "matmul" for g in requested for n in g.nodes)
    assert matmuls == 2 * 3, [str(g) for g in requested]


def test_runs_eagerly_follows_the_elements_per_elementwise_op(threshold):
    step, _ = _make()
    with contextlib.redirect_stdout(io.StringIO()):
        graph = trace(step, (), {}).graph
    loops = [n for n in graph.nodes if n.prim.lowering == "loop"]
    mean = sum(int(np.prod(n.inputs[0].shape if n.prim.reduce else n.out.shape))
               for n in loops) / len(loops)
    threshold(int(mean) + 1)
    assert per_call.runs_eagerly(graph)
    threshold(int(mean) - 1)
    assert not per_call.runs_eagerly(graph)
    threshold(0)
    assert not per_call.runs_eagerly(graph)


def test_fullgraph_keeps_a_per_call_step_traced():
    step, _ = _make()
    fn = stepjit.compile(step, backend="interpret", fullgraph=True)
    _run(fn, 6)
    st = fn.stats()
    assert st["eager_calls"] == 0 and st["traces"] == 6 and st["fallbacks"] == 0, st
