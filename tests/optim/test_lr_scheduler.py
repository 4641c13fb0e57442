"""optim.lr_scheduler: PyTorch's lr sequences to the bit (recorded by
tests/fixtures/record_optim.py), state_dict resumption, errors, and schedules driving a
compiled step without retracing."""
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import stepjit
import stepjit.optim as optim
from stepjit.optim import lr_scheduler as S
from tests.optim.cases import SCHEDULES, make_schedule, run_schedule, step_schedule

RECORDED = json.loads((Path(__file__).parents[1] / "fixtures" / "optim" /
                       "lr_schedules.json").read_text())["schedules"]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lr_sequence_equals_pytorchs(name):
    assert run_schedule(stepjit, name) == RECORDED[name]   # exact: the same float arithmetic


@pytest.mark.parametrize("name", ["step", "cosine", "lambda", "onecycle_sgd", "warm_restarts",
                                  "sequential", "chained", "plateau_min_rel_cooldown",
                                  "multistep"])
def test_resuming_from_a_saved_state_dict_continues_the_schedule(name):
    opt, sched, steps = make_schedule(stepjit, name)
    half = steps // 2
    for i in range(half):
        step_schedule(stepjit, opt, sched, i)
    buf = io.BytesIO()
    stepjit.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    ck = stepjit.load(buf)
    opt2, sched2, _ = make_schedule(stepjit, name)
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    lrs = []
    for i in range(half, steps):
        step_schedule(stepjit, opt2, sched2, i)
        lrs.append(sched2.get_last_lr())
    assert lrs == [rec[0] for rec in RECORDED[name][half + 1:]]


def test_state_dict_holds_no_functions_and_last_epoch_counts():
    opt = optim.SGD([stepjit.zeros(1, requires_grad=True)], lr=1.0)
    sched = S.LambdaLR(opt, lambda e: 1 / (e + 1))
    assert sched.last_epoch == 0 and sched.state_dict()["lr_lambdas"] == [None]
    opt.step()
    sched.step()
    assert sched.last_epoch == 1 and sched.get_last_lr() == [0.5]
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_step_with_an_epoch_uses_the_closed_form():
    opt = optim.SGD([stepjit.zeros(1, requires_grad=True)], lr=1.0)
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(7)
    assert sched.last_epoch == 7 and sched.get_last_lr() == [0.25]


BAD_SCHEDULERS = [   # (make(S, optimizer), exception, PyTorch 2.13's text)
    (lambda S, o: S.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda S, o: S.StepLR(o, 3, last_epoch=4), KeyError,
     "param 'initial_lr' is not specified in param_groups[0] when resuming"),
    (lambda S, o: S.LambdaLR(o, [lambda e: 1, lambda e: 1]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda S, o: S.MultiplicativeLR(o, 3), TypeError, "lr_lambda should be a function, but got "
     "int"),
    (lambda S, o: S.ConstantLR(o, factor=2), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda S, o: S.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda S, o: S.OneCycleLR(o, 1.0), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda S, o: S.OneCycleLR(o, 1.0, total_steps=10, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda S, o: S.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="x"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got x"),
    (lambda S, o: S.OneCycleLR(o, [1.0, 2.0], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 2 values, "
     "param_groups has 1."),
    (lambda S, o: S.SequentialLR(o, [S.ExponentialLR(o, 0.9)], milestones=[2]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the "
     "number of milestone points, but got number of schedulers 1 and the number of milestones "
     "to be equal to 1"),
    (lambda S, o: S.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
    (lambda S, o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), ValueError,
     "ChainedScheduler does not support `ReduceLROnPlateau` scheduler"),
    (lambda S, o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda S, o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda S, o: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda S, o: S.CyclicLR(o, [0.01, 0.02], 0.1), ValueError,
     "base_lr must have the same length as optimizer.param_groups. base_lr has 2 values, "
     "param_groups has 1."),
    (lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError,
     "expected 1 min_lrs, got 2"),
]


def _bad(T, i):
    make, err, text = BAD_SCHEDULERS[i]
    opt = T.optim.SGD([T.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(err) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(T.optim.lr_scheduler, opt)
    assert text in str(info.value)


@pytest.mark.parametrize("i", range(len(BAD_SCHEDULERS)))
def test_bad_schedules_raise_pytorchs_errors(i):
    _bad(stepjit, i)


@pytest.mark.parametrize("i", range(len(BAD_SCHEDULERS)))
def test_bad_schedule_errors_match_torch(i):
    _bad(pytest.importorskip("torch"), i)


def test_onecycle_past_its_total_steps_refuses():
    opt = optim.SGD([stepjit.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, 1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total "
                                         "steps is 2"):
        sched.step()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_schedule_changes_a_compiled_steps_lr_without_retracing(backend):
    x = stepjit.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=stepjit.float32)

    def run(compiled):
        w = stepjit.ones(3, 1, requires_grad=True)
        opt = optim.SGD([w], lr=0.5)
        sched = S.StepLR(opt, step_size=2, gamma=0.1)

        def step(x):
            opt.zero_grad()
            loss = (x @ w).pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        fn = stepjit.compile(step, backend=backend) if compiled else step
        losses = []
        for _ in range(6):
            losses.append(fn(x).item())
            sched.step()
        return losses, w.detach().numpy(), fn
    eager, w_eager, _ = run(False)
    compiled, w_compiled, fn = run(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    np.testing.assert_allclose(w_compiled, w_eager, rtol=1e-6)
    assert fn.stats()["traces"] <= 2   # the first call (grad created), then one reused trace
