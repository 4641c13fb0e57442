"""Tracing a long step costs work linear in its length.

A step that reads values into Python many times while it builds a long graph (LBFGS's line
search over an unrolled LSTM, as in the time-sequence-prediction example, reads `.item()`
dozens of times per call) made the tracer quadratic twice over: every concrete read ran the
interpreter over every node traced so far (skipping those already computed, but visiting
each), and every `.device` read of a trace-time tensor (each slice's backward asks for it)
scanned every value computed so far for a CUDA array. The first call of that example took
minutes. These tests count that work (node visits, device checks) for two lengths: linear
work grows with the length, quadratic work with its square.
"""
import pytest

import stepjit as torch
from stepjit import cuda
from stepjit.ir import interpreter
from stepjit.tracer import tracer as tracer_module


def _unrolled_step(length):
    x = torch.randn(length + 2, 3, requires_grad=True)

    def step():
        h, seen = x, 0.0
        for _ in range(length):
            h = torch.tanh(h * 1.01)[1:]       # a slice: its backward reads g.device
            seen += h.sum().item()             # a concrete read every iteration
        loss = h.sum() + 0 * seen
        loss.backward()
        return loss
    return step


def _work(monkeypatch, length):
    counts = {"visits": 0, "device_checks": 0}
    real_evaluate, real_is_device = interpreter.evaluate, cuda.is_device_array

    def counting_evaluate(graph, env, *args, **kwargs):
        stop = kwargs.get("stop", args[0] if args else None)
        counts["visits"] += len(graph.nodes[kwargs.get("start", 0):stop])
        return real_evaluate(graph, env, *args, **kwargs)

    def counting_is_device(a):
        counts["device_checks"] += 1
        return real_is_device(a)

    monkeypatch.setattr(tracer_module, "evaluate", counting_evaluate)
    monkeypatch.setattr(cuda, "is_device_array", counting_is_device)
    fn = torch.compile(_unrolled_step(length), backend="interpret")
    fn()
    monkeypatch.undo()
    assert fn.stats()["traces"] == 1
    return counts


@pytest.mark.parametrize("what", ["visits", "device_checks"])
def test_trace_work_is_linear_in_the_step_length(monkeypatch, what):
    short, long = _work(monkeypatch, 10)[what], _work(monkeypatch, 40)[what]
    # 4x the length: linear work grows ~4x, quadratic ~16x
    assert long <= 6 * max(short, 1), (what, short, long)
