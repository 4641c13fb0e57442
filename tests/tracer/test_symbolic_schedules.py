"""Schedules computed in Python from a loop counter (tracer/symbolic.py): once the counter has
changed between calls it is read per call, and what the step computes from it in float
arithmetic (`it / n`, `lr * (it + 1)`) and with `math.cos`, `sin`, `exp`, `log`, `sqrt`,
`tanh` is computed by the graph (float64 nodes), so one trace serves every later call instead
of one trace per value. Each call is compared with eager (interpret backend: bit for bit)."""
import math

import pytest

import stepjit as torch
from stepjit.runtime.guards import describe_guards

from .test_values import run_side_by_side

IT = 0


def _set_it(i, _):
    global IT
    IT = i


def _program(scale_of):
    def make():
        w = torch.randn(3, 2, requires_grad=True)
        x = torch.randn(4, 3)

        def step():
            loss = ((x @ w) * scale_of(IT)).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return loss
        return step, (), [w]
    return make


SCHEDULES = {
    "cosine": lambda it: 0.5 * (1.0 + math.cos(math.pi * it / 12)),
    "int_over_int": lambda it: (it + 1) / 7,
    "exp_decay": lambda it: math.exp(-0.1 * it) + math.sqrt(it + 1.0) * 0.01,
    "noam": lambda it: 64 ** -0.5 * min((it + 1) ** -0.5, (it + 1) * 4 ** -1.5),
    "log_tanh_sin": lambda it: math.log(it + 2) * math.tanh(it / 3) + math.sin(it),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_schedule_of_a_counter_is_computed_by_the_graph(name):
    try:
        c = run_side_by_side(_program(SCHEDULES[name]), 10, _set_it)
    finally:
        _set_it(0, None)
    st = c.stats()
    # the first value, then one trace reading IT per call ("noam": its min() compares the two
    # branches' values, a guard on the outcome: one more trace where the outcome flips)
    assert st["traces"] <= (3 if name == "noam" else 2) and st["mode"] == "tree", st
    assert "global IT: read every call" in describe_guards(c.traces[-1])


def test_a_branch_on_a_float_of_the_counter_guards_its_outcome():
    def scale(it):
        ratio = it / 9
        return 1.0 - ratio if ratio > 0.5 else 2.0 * ratio
    try:
        c = run_side_by_side(_program(scale), 10, _set_it)
    finally:
        _set_it(0, None)
    assert c.stats()["traces"] == 3, c.stats()   # first call, ratio <= 0.5, ratio > 0.5


def test_a_math_function_bound_before_the_trace_holds_for_its_value():
    """`from math import cos` at import time goes around the trace's math functions: C reads
    the exact value, which changes on every call: the step runs its Python every call, each call
    still eager's."""
    from math import cos

    try:
        c = run_side_by_side(_program(lambda it: cos(it / 5)), 5, _set_it)
    finally:
        _set_it(0, None)
    assert c.stats()["mode"] == "per-call retracing", c.stats()
