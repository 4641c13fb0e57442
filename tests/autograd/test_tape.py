"""Backward by a tape's generated function (stepjit/autograd/tape.py) against the engine it
unrolls: the same gradient bits and parameters over random training programs, the engine's
summation order, the engine wherever the function cannot stand in for it, and the function
actually taking over the steps of a recurring tape."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import stepjit as torch
from stepjit.autograd import array_vjp, engine, generators, tape
from stepjit.codegen import tape_function
from tests.regression.fuzz_programs import build, describe, programs


@pytest.fixture
def fresh(monkeypatch):
    """An empty table of tapes; returns a counter of backwards the generated functions ran."""
    monkeypatch.setattr(tape, "_TAPES", {})
    monkeypatch.setattr(tape, "_BY_ROOT", {})
    ran = {"tape": 0}
    real = tape.run

    def counting(*args):
        took = real(*args)
        ran["tape"] += took
        return took
    monkeypatch.setattr(tape, "run", counting)
    return ran


@pytest.fixture
def slow(monkeypatch):
    """The names of the nodes the tape's function ran by `_slow` (the engine's step)."""
    names = []
    real_slow = tape._slow

    def spy(node, grads, n_edges):
        names.append(node.name())
        return real_slow(node, grads, n_edges)
    monkeypatch.setattr(tape, "_slow", spy)
    return names


def bits(ts):
    return [np.asarray(t.detach().numpy()).tobytes() for t in ts]


def run_program(spec, steps=3):
    step, args, params = build(spec)
    losses = [step(*args) for _ in range(steps)]
    return bits(losses) + bits(params)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_random_programs_match_the_engine_bitwise(spec):
    saved = (tape.ENABLED, tape.WARM_AFTER, tape._TAPES, tape._BY_ROOT)
    try:
        tape.ENABLED = False
        expected = run_program(spec)
        tape.ENABLED, tape.WARM_AFTER, tape._TAPES, tape._BY_ROOT = True, 0, {}, {}
        got = run_program(spec)
        assert any(callable(f) for f in tape._TAPES.values())
    finally:
        tape.ENABLED, tape.WARM_AFTER, tape._TAPES, tape._BY_ROOT = saved
    assert got == expected, describe(spec)


def fan_out_grads():
    """x reaches the loss through many paths, so its gradient is a sum whose float32 bits
    depend on the order the parts arrive in."""
    x = torch.tensor(np.random.default_rng(0).standard_normal(64), dtype=torch.float32,
                     requires_grad=True)
    a, b, c, d = x * 3.7, x.exp(), x * x, x.sin()
    loss = (a * b + c * d - (a * c) + (b * d).tanh() + x.sigmoid() * a).sum()
    loss.backward()
    return x.grad.numpy().tobytes()


def test_gradients_sum_in_the_engines_order(fresh, monkeypatch):
    monkeypatch.setattr(tape, "ENABLED", False)
    expected = fan_out_grads()
    monkeypatch.setattr(tape, "ENABLED", True)
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    assert fan_out_grads() == expected
    assert fresh["tape"] == 1
    # The order matters here: first-in-first-out gives other bits (so the test can fail).
    real_schedule = tape_function._schedule

    def fifo(nodes):
        order, index = real_schedule(nodes)
        return order[:1] + order[1:][::-1], index
    monkeypatch.setattr(tape_function, "_schedule", fifo)
    monkeypatch.setattr(tape, "_TAPES", {})
    monkeypatch.setattr(tape, "_BY_ROOT", {})
    with pytest.raises(Exception):
        assert fan_out_grads() == expected


def test_a_recurring_step_takes_the_function_after_two_engine_backwards(fresh, slow):
    from examples import two_layer_net as ex
    x, y, w1, w2 = ex.init(N=8, D_in=6, H=5, D_out=3)
    losses = [ex.step(x, y, w1, w2, 1e-3).item() for _ in range(6)]
    assert fresh["tape"] == 6 - tape.WARM_AFTER
    # every node ran inline: primitives their straight-line functions, the Function its apply
    assert slow == []
    expected_w1 = w1.detach().numpy().copy()
    x2, y2, w1b, w2b = ex.init(N=8, D_in=6, H=5, D_out=3)
    tape.ENABLED = False
    try:
        losses_engine = [ex.step(x2, y2, w1b, w2b, 1e-3).item() for _ in range(6)]
    finally:
        tape.ENABLED = True
    assert losses == losses_engine
    assert w1b.detach().numpy().tobytes() == expected_w1.tobytes()


def test_shared_and_duplicated_subgraphs_get_their_own_functions(fresh, monkeypatch):
    """y + y (one node reached twice) and f(x) + f(x) (two equal nodes) have the same node
    kinds in the same order; the key's edges tell them apart."""
    monkeypatch.setattr(tape, "WARM_AFTER", 0)

    def shared(x):
        y = x * x
        return (y + y * 2.0).sum()

    def duplicated(x):
        return (x * x + (x * x) * 2.0).sum()
    for fn in (shared, duplicated, shared, duplicated):
        x = torch.tensor([1.5, -2.0], requires_grad=True)
        fn(x).backward()
        assert x.grad.tolist() == [9.0, -12.0]
    assert sum(callable(f) for f in tape._TAPES.values()) == 2


def test_saved_numbers_are_part_of_the_key(fresh, monkeypatch):
    """x * 3.0 and x * 5.0 share a plan; the straight-line function has the number built in."""
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    for k in (3.0, 5.0, 3.0, 5.0):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * k).pow(2).sum().backward()
        assert x.grad.tolist() == [2 * k * k, 4 * k * k]
    assert sum(callable(f) for f in tape._TAPES.values()) == 2


class Split(torch.autograd.Function):
    """Two outputs: the input, and three times it."""

    @staticmethod
    def forward(ctx, x):
        return x.clone(), x * 3.0

    @staticmethod
    def backward(ctx, ga, gb):
        return ga + gb * 3.0


def test_which_output_an_edge_leaves_from_is_part_of_the_key(fresh, monkeypatch):
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    for first in (True, False, True, False):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        a, b = Split.apply(x)
        ((a if first else b) * 2.0 + (b if first else a) * 7.0).sum().backward()
        assert x.grad.tolist() == ([2.0 + 21.0] * 2 if first else [6.0 + 7.0] * 2)
    assert sum(callable(f) for f in tape._TAPES.values()) == 2


def test_a_freed_tape_raises_and_retain_graph_keeps_it(fresh, monkeypatch):
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    assert fresh["tape"] == 2   # the third walked the tape, then ran as the engine runs it


def test_a_saved_tensor_changed_in_place_raises_as_in_the_engine(fresh, monkeypatch):
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    for _ in range(2):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        loss = (y * y).sum()
        with torch.no_grad():
            y.add_(1.0) if _ else None
        if _:
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
            assert x.grad is None
        else:
            loss.backward()
            assert x.grad.tolist() == [2.0, 4.0]


def test_hooks_added_after_the_function_was_written_still_run(fresh, monkeypatch):
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    for hooked in (False, True):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3.0
        if hooked:
            y.register_hook(lambda g: g * 10)
            y.retain_grad()
        (y * y).sum().backward()
        assert x.grad.tolist() == ([180.0, 360.0] if hooked else [18.0, 36.0])
    assert y.grad.tolist() == [60.0, 120.0]   # retain_grad stores it after the hooks ran
    assert fresh["tape"] == 2


def test_multiple_roots_and_autograd_grad_take_the_engine(fresh, monkeypatch):
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.autograd.backward([(x * x).sum(), (x * 2).sum()])
    (g,) = torch.autograd.grad((x * x).sum(), [x])
    assert x.grad.tolist() == [4.0, 6.0] and g.tolist() == [2.0, 4.0]
    assert fresh["tape"] == 0


def test_the_table_of_tapes_is_bounded(fresh, monkeypatch):
    monkeypatch.setattr(tape, "MAX_TAPES", 4)
    for n in range(1, 12):   # eleven structures: chains of n multiplications
        x = torch.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0
        y.sum().backward()
    assert len(tape._TAPES) <= 4


class Scale(torch.autograd.Function):
    """x * w, w's gradient only when it requires one; or (x * w, x) when asked for two outputs.
    backward scales x's gradient by the number of output gradients it was given."""

    @staticmethod
    def forward(ctx, x, w, two):
        ctx.save_for_backward(x, w)
        return (x * w, x.clone()) if two else x * w

    @staticmethod
    def backward(ctx, *gs):
        x, w = ctx.saved_tensors
        return gs[0] * w * len(gs), (gs[0] * x if ctx.needs_input_grad[1] else None), None


@pytest.mark.parametrize("vary", ["edge", "outputs"])
def test_a_function_runs_only_on_the_structure_it_was_written_for(fresh, monkeypatch, vary):
    """Tapes that differ only in a Function node's missing edge or its number of outputs: the
    most recently written function is tried first, finds the tape is not its own, and the
    right one runs (the engine's gradients)."""
    monkeypatch.setattr(tape, "WARM_AFTER", 0)

    def step(flag):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([3.0, 4.0], requires_grad=flag or vary == "outputs")
        out = Scale.apply(x, w, flag and vary == "outputs")
        (out[0] if type(out) is tuple else out).sum().backward()
        return x.grad.tolist(), None if w.grad is None else w.grad.tolist()
    expected = {True: ([6.0, 8.0] if vary == "outputs" else [3.0, 4.0], [1.0, 2.0]),
                False: ([3.0, 4.0], None if vary == "edge" else [1.0, 2.0])}
    for flag in (True, False, True, False):
        assert step(flag) == expected[flag]
    assert fresh["tape"] == 4 and sum(callable(f) for f in tape._TAPES.values()) == 2


def test_hooks_on_a_functions_output_take_the_engines_step(fresh, slow, monkeypatch):
    """A Function node runs its apply inline; a hook or retain_grad on its output added after
    the function was written sends it through `_slow`, the engine's step with pre-hooks."""
    from examples.two_layer_net import MyReLU
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    for hooked in (False, True):
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        h = MyReLU.apply(x * 3.0)
        if hooked:
            h.register_hook(lambda g: g * 10)
            h.retain_grad()
        (h * h).sum().backward()
        assert x.grad.tolist() == ([180.0, 0.0] if hooked else [18.0, 0.0])
    assert h.grad.tolist() == [60.0, 0.0]
    assert fresh["tape"] == 2 and slow == ["MyReLUBackward"]


def test_fresh_gradients_pass_bare_between_straight_line_functions(fresh, monkeypatch):
    """A gradient a straight-line function made goes to the next one as its bare array, and
    into the tensor the engine would have made wherever a tensor leaves: a Function's output
    (through a passed-on gradient), a hook; one tensor object where the engine hands one to two
    children (the second leaf copies it, as in the engine)."""
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    seen = []
    y = torch.tensor([3.0, 1.0])

    def through_a_function(hooked):   # Sum, Pow, Mul, Sub: bare from one to the next
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        a, b = Split.apply(x)
        p = ((b - y) * 1.5).pow(2)
        if hooked:
            p.register_hook(lambda g: seen.append(g) or g * 2.0)
        p.sum().backward()
        return x.grad.tolist()

    def into_two_leaves(_):   # Sub hands the bare gradient on to Add, which gives it to both
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([0.5, -1.0], requires_grad=True)
        (((x + w) - y) * 1.5).pow(2).sum().backward()
        xg, wg = x.grad.tolist(), w.grad.tolist()
        x.grad.add_(100.0)   # x's and w's gradients are not one array
        return xg, wg, w.grad.tolist()
    for step, arg in ((through_a_function, False), (through_a_function, True),
                      (into_two_leaves, None)):
        monkeypatch.setattr(tape, "ENABLED", False)
        expected = step(arg)
        monkeypatch.setattr(tape, "ENABLED", True)
        assert step(arg) == expected
    assert expected[1] == expected[2]
    assert fresh["tape"] == 3
    assert len(seen) == 2 and all(type(g) is torch.Tensor for g in seen)
    src = [f.source for f in tape._TAPES.values() if callable(f)]
    assert len(src) == 2 and all("MULBACKWARD0_VJP_ARRAYS(" in f for f in src)


def test_without_the_code_generators_the_engine_runs_with_the_same_bits(fresh, monkeypatch):
    """The front end reaches eager backward's code generators (codegen/) only through the
    hooks stepjit/api.py sets; with them unset (the front end imported alone) every backward
    takes the engine's generic path, with the same bits, and nothing is written."""
    monkeypatch.setattr(tape, "WARM_AFTER", 0)
    monkeypatch.setattr(array_vjp, "WARM_AFTER", 0)
    expected = [fan_out_grads() for _ in range(3)]
    assert fresh["tape"] >= 1
    monkeypatch.setattr(tape, "_TAPES", {})
    monkeypatch.setattr(tape, "_BY_ROOT", {})
    monkeypatch.setattr(generators, "write_tape", None)
    monkeypatch.setattr(generators, "derive_vjp", None)
    fresh["tape"] = 0
    got = [fan_out_grads() for _ in range(3)]
    assert got == expected and fresh["tape"] == 0
    assert not any(callable(f) for f in tape._TAPES.values())
