"""One generated guard check per segment and one generated write-back per leaf (runtime/
guardcode.py), used by the tree walk; the fast call inlines the same writer's lines. The check
returns the failing guard, which becomes the sentence a retrace and `stepjit explain` show."""
import numpy as np

import stepjit as torch
from stepjit.cli.explain import describe_function
from stepjit.runtime import fastcall, guardcode
from stepjit.runtime.fastcall import MISS
from stepjit.tracer.hyperparams import PyInput
from stepjit.tracer.trace import SlotSpec, flat_args
from stepjit.tracer.values import ValueGuard

SHIFT = True


def _program():
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)

    def step(x):
        loss = (w * x).sum() ** 2
        if SHIFT:
            loss = loss + 1.0
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step, w, opt


def _root(compiled):
    return [r for r in compiled.roots if r.leaf is not None][-1]


def test_the_check_returns_the_failing_guard_and_explain_tells_it():
    global SHIFT
    step, w, opt = _program()
    c = torch.compile(step, backend="interpret")
    x = torch.ones(3)
    for _ in range(3):
        c(x)
    seg = _root(c)
    check = guardcode.check_function(seg)
    flat, _ = flat_args((x,), {})
    objs, env = [], {}
    assert check(flat, objs, env) is None
    bound_objs, bound_env = [], {}
    guardcode.bind(seg, flat, bound_objs, bound_env)
    assert objs == bound_objs and env.keys() == bound_env.keys()

    try:
        SHIFT = False
        failed = check(flat, [], {})
        assert type(failed) is ValueGuard and failed.label == "global SHIFT"
        assert guardcode.failure(seg, failed, flat, []) == \
            "global SHIFT changed from True to False (the trace read True)"
    finally:
        SHIFT = True

    opt.param_groups[0]["lr"] = 1    # an int where the trace reads a float per call
    failed = check(flat, [], {})
    assert type(failed) is PyInput
    assert "is now 1 (traced as a float)" in guardcode.failure(seg, failed, flat, [])
    opt.param_groups[0]["lr"] = 0.1

    with torch.no_grad():
        w.data = w.data.double()
    failed = check(flat, [], {})
    assert type(failed) is SlotSpec
    sentence = guardcode.failure(seg, failed, flat, [])
    assert sentence == "w changed from f32[3] to float64[3]"
    # the call takes the tree walk, whose check says the same, and `stepjit explain` shows it
    c(x)
    assert sentence in describe_function(c, c.events)


def test_the_fast_call_and_the_check_agree():
    """The fast call inlines the writer's guard lines: for every change, it misses exactly when
    the segment's check returns a guard."""
    global SHIFT
    step, w, opt = _program()
    c = torch.compile(step, backend="interpret")
    x = torch.ones(3)
    for _ in range(3):
        c(x)
    seg = _root(c)
    seg.verify_at = 10 ** 9     # (a leaf due for re-verification is the tree walk's: UNSURE)
    check = guardcode.check_function(seg)
    fast, _, source = fastcall.build([seg], "step_fast", "interpret", c._stats)
    flat, _ = flat_args((x,), {})
    changes = [lambda: None, lambda: globals().__setitem__("SHIFT", False),
               lambda: w.requires_grad_(False), lambda: setattr(w, "grad", None)]
    try:
        for change in changes:
            change()
            failed = check(flat, [], {})
            uses = seg.uses
            out = fast((x,), {})
            assert (out is MISS) == (failed is not None), (failed, out)
            if out is not MISS:   # it ran: undo the use's effects on the count only
                assert seg.uses == uses + 1
    finally:
        SHIFT = True
    for line in check.source.splitlines():
        if "!=" in line and "VALUE" in line:    # a Python value guard: the same condition
            cond = line.split("if ", 1)[1].split(":  #")[0]
            assert cond.split(" := ")[1].split(".get(")[1] in source


def test_a_trace_made_for_one_call_reuses_the_compiled_write_back(capsys):
    """Per-call retracing (a loss read exactly and printed every call) writes back with code compiled once per
    write plan, not once per trace."""
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def step(x):
        loss = (w * x).sum() ** 2
        print(float(loss))
        loss.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
            w.grad = None
        return loss

    c = torch.compile(step, backend="interpret")
    for i in range(6):
        c(torch.full((3,), float(i)))
    assert c.stats()["mode"] == "per-call retracing"
    before = len(guardcode._WRITE_BACKS)
    made = []
    for i in range(3):
        c(torch.full((3,), float(i)))
        made.append(c.events[-1]["trace"])
    assert len(guardcode._WRITE_BACKS) == before
    fns = {guardcode.write_back_function(tr)[0] for tr in made}
    assert len(fns) == 1
    assert "refs[" in next(iter(fns)).source and "_version.value += 1" in next(iter(fns)).source
    want = np.array([0.5, -1.0, 2.0], np.float32)
    for i in list(range(6)) + list(range(3)):
        want = want - np.float32(0.01) * (2 * np.float32((want * i).sum()) * np.float32(i))
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-5)
