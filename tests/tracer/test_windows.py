"""Slices whose bounds come from an int the step reads per call (tracer/windows.py): the loop
variable of `xb = x_train[i * bs:(i + 1) * bs]`, `source[i:i + seq_len]`, `x[i]`. After its
first change the int is symbolic; a slice bound becomes a window whose start is read on every
call (the dynamic_slice primitive) and whose length is guarded, so one trace serves every
batch of a loop and a shorter last batch is one more trace, never an eager fallback. What the
int changes otherwise (a shape, a branch) is still guarded. Values against PyTorch's slicing
(tests/fixtures/windows, recorded by tests/fixtures/record_windows.py) and against eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit as torch
from stepjit.runtime import tree
from stepjit.runtime.guards import describe_guards

from ..runtime.helpers import assert_same
from . import window_cases
from .test_values import run_side_by_side

FIXTURE = Path(__file__).parents[1] / "fixtures" / "windows" / "torch_windows.npz"
I = 0          # the loop variable the compiled steps read, as a script's global


def _compiled_loop(backend, made):
    def step_fn(fn, x):
        def step():
            return window_cases._loss(torch, fn, x, I)
        made.append(torch.compile(step, backend=backend))

        def call(i):
            global I
            I = i
            return made[-1]()
        return call
    return step_fn


# traces per case: the first value, the symbolic trace, one per other window length
TRACES = {"batch": 4, "bptt": 3, "from_the_end": 3, "strided": 3, "index": 2, "column": 2}


@pytest.mark.parametrize("backend,name", [("interpret", n) for n in window_cases.CASES]
                         + [("cpu", "batch"), ("cpu", "index")])
def test_windows_match_pytorch_with_a_trace_per_length(backend, name):
    want = np.load(FIXTURE)
    made = []
    got = window_cases.run(torch, name, _compiled_loop(backend, made))
    for key, value in got.items():
        np.testing.assert_array_equal(value, want[key], err_msg=key)
    st = made[0].stats()
    assert (st["traces"], st["fallbacks"]) == (TRACES[name], 0), st


BS, N_BATCHES = 4, 20


def _batches_program(n_rows):
    def make():
        x_train = torch.randn(n_rows, 3, dtype=torch.float64)
        y_train = torch.randn(n_rows, 1, dtype=torch.float64)
        w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)

        def step():
            xb = x_train[I * BS:(I + 1) * BS]
            yb = y_train[I * BS:(I + 1) * BS]
            loss = ((xb @ w + b - yb) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                for p in (w, b):
                    p -= 0.1 * p.grad
                    p.grad.zero_()
            return loss
        return step, (), [w, b]
    return make


def _set_i(i, _):
    global I
    I = i


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("n_rows,traces", [(BS * N_BATCHES, 2), (BS * N_BATCHES - 1, 3)])
def test_a_training_loop_over_batches_makes_one_symbolic_trace(backend, n_rows, traces):
    """nn_tutorial's loop, 20 batches: the first value, then one trace for every later batch
    (torch.compile also compiles twice: static, then dynamic at the first recompile), plus one
    for a last batch of 3 rows. Today's main: 8 traces, then eager for the rest."""
    c = run_side_by_side(_batches_program(n_rows), N_BATCHES, _set_i, backend=backend)
    st = c.stats()
    assert (st["traces"], st["fallbacks"], st["mode"]) == (traces, 0, "tree"), st
    symbolic = c.traces[1]
    assert [p.label for p in symbolic.py_inputs] == ["global I"]
    text = describe_guards(symbolic)
    assert f"slice [(global I * {BS}):((global I + 1) * {BS})] of a dimension of size " \
           f"{n_rows} takes {BS} elements" in text, text
    assert "dynamic_slice" in str(symbolic.graph)


def _sliced_parameter():
    W = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, dtype=torch.float64)

    def step():
        rows = W[I:I + 4]                    # a window of a parameter: its gradient flows back
        loss = torch.tanh(rows @ v).sum() + (W[I - 10] ** 2).sum()
        loss.backward()
        with torch.no_grad():
            W.sub_(0.5 * W.grad)
            W.grad = None
        return loss
    return step, (), [W]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_gradients_flow_through_a_window_to_the_sliced_parameter(backend):
    c = run_side_by_side(_sliced_parameter, 7, _set_i, backend=backend)
    assert (c.stats()["traces"], c.stats()["fallbacks"]) == (2, 0), c.stats()


def test_a_closure_loop_variable_is_read_per_call():
    def make():
        x = torch.randn(12, 2, dtype=torch.float64, requires_grad=True)
        state = {"i": 0}
        i = 0

        def step():
            loss = (x[i:i + 3] * 2).sum() + x[state["i"] % 12].sum()
            loss.backward()
            return loss

        def bump(k):
            nonlocal i
            i = k
            state["i"] = 3 * k
        step.bump = bump
        return step, (), [x]

    def change(k, prog):
        prog[0].bump(k)
    c = run_side_by_side(make, 9, change)
    assert (c.stats()["traces"], c.stats()["fallbacks"]) == (2, 0), c.stats()
    assert sorted(p.label for p in c.traces[1].py_inputs) == \
        ["closure variable i", "closure variable state['i']"], c.traces[1].py_inputs


XS = torch.arange(30.0, dtype=torch.float64).reshape(10, 3)


def _shape_follows_i():
    def step():
        return XS[:I].sum(0) * 1.0         # the length is i: a new shape per value
    return step, (), []


def _branch_on_i():
    def step():
        if I > 4:                          # control flow on the int: guarded on its outcome
            return XS[I - 2:I].sum() * 2.0
        return XS[I:I + 2].sum()
    return step, (), []


def test_an_int_that_changes_a_shape_or_a_branch_still_retraces():
    c = run_side_by_side(_shape_follows_i, 6, _set_i)
    assert c.stats()["traces"] == 6, c.stats()
    c = run_side_by_side(_branch_on_i, 9, _set_i)
    assert (c.stats()["traces"], c.stats()["fallbacks"]) == (3, 0), c.stats()


def _write_through_a_window():
    x = torch.randn(8, 2, dtype=torch.float64)

    def step():
        xb = x[I:I + 2]
        xb.mul_(2.0)                       # writes x, as eagerly: the bounds are made exact
        return xb.sum() + x.sum()
    return step, (), [x]


def test_a_write_through_a_window_reaches_its_base():
    c = run_side_by_side(_write_through_a_window, 5, _set_i)
    assert c.stats()["fallbacks"] == 0


def _window_only():
    W = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, dtype=torch.float64)

    def step():
        loss = torch.tanh(W[I:I + 4] @ v).sum()
        loss.backward()
        with torch.no_grad():
            W.sub_(0.5 * W.grad)
            W.grad = None
        return loss
    return step, (), [W]


def test_a_window_runs_in_a_native_program(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    tree.clear_programs()
    c = run_side_by_side(_window_only, 4, _set_i, backend="cpu")
    programs = [p for _, p in c.programs.values()]
    texts = [p.native_text for p in programs if p.is_native and "take_window(" in p.native_text]
    assert texts and any("put_window(" in t for t in texts)


def test_window_start_clamps_as_xla_and_reads_python_starts():
    from stepjit.ir.primitives.indexing import window_start
    assert [window_start(s, 10, 3, 1) for s in (0, 4, 7, 8, 12, -3, -4, -20)] == \
        [0, 4, 7, 7, 7, 7, 6, 0]
    assert window_start(3, 10, 0, 1) == 3 and window_start(-1, 10, 2, 3) == 6
    assert_same(np.zeros(1), np.zeros(1))


def _argument_program():
    data = torch.arange(60.0, dtype=torch.float64).reshape(20, 3)
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)

    def step(source, i, bs):
        loss = ((source[i * bs:(i + 1) * bs] @ w) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.001 * w.grad)
            w.grad = None
        return loss
    return step, data, [w]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_int_argument_is_read_per_call(backend):
    """`step(data, i, bs)` in a loop: the int argument becomes a SymbolicInt at its first
    change (torch.compile's automatic dynamic for an int input), so 7 batches of 3 rows of a
    20-row tensor make 3 traces (i = 0, the symbolic one, the last batch of 2 rows), and a
    second epoch none; `bs`, which does not change, stays baked in."""
    tree.clear_programs()
    step, data, (w,) = _argument_program()
    compiled = torch.compile(step, backend=backend)
    got = [compiled(data, i % 7, 3).item() for i in range(14)]
    w_got = w.detach().numpy().copy()
    with torch.no_grad():
        w.fill_(1.0)
    want = [step(data, i % 7, 3).item() for i in range(14)]
    if backend == "interpret":
        assert got == want
        np.testing.assert_array_equal(w_got, w.detach().numpy())
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(w_got, w.detach().numpy(), rtol=1e-12)
    st = compiled.stats()
    assert (st["traces"], st["fallbacks"], st["mode"]) == (3, 0, "tree"), st
    assert "argument i: read every call" in describe_guards(compiled.traces[1])


def _dims_program():
    x = torch.arange(24.0, dtype=torch.float64).reshape(6, 4)

    def step():
        d = I % 2
        parts = x.split(I + 1)                       # an int where a tuple of ints may go
        y = x.roll(I, 0).sum(d) * (2.0 if isinstance(I, int) else 3.0)
        return y.sum() + parts[0].sum() + x.unsqueeze(d).max(dim=d + 1)[0].sum()
    return step, (), []


def test_a_symbolic_int_used_as_a_dim_or_tested_with_isinstance_acts_as_its_value():
    """Front-end functions that take an int or a tuple of ints test isinstance(dim, int), and
    so may user code: a SymbolicInt says int (its value is then guarded where it is used)."""
    c = run_side_by_side(_dims_program, 6, _set_i)
    assert c.stats()["fallbacks"] == 0
