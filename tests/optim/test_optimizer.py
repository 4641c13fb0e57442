"""Optimizer base: param groups, zero_grad, closures, state_dict round trips."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.optim as optim


def _param(values):
    return nn.Parameter(stepjit.tensor(values))


def test_param_groups_take_defaults_and_overrides():
    a, b = _param([1.0]), _param([2.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    c = _param([3.0])
    opt.add_param_group({"params": [c], "lr": 0.01})
    assert len(opt.param_groups) == 3


def test_constructor_errors():
    p = _param([1.0])
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_zero_grad_and_parameters_without_grad_are_skipped():
    a, b = _param([1.0, 2.0]), _param([3.0])
    opt = optim.SGD([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()  # b has no grad: untouched, no error
    np.testing.assert_allclose(a.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    assert b.item() == 3.0
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_loss_and_runs_with_grad():
    a = _param([2.0])
    opt = optim.SGD([a], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with stepjit.no_grad():  # the closure still records: step() enables grad for it
        loss = opt.step(closure)
    assert loss.item() == 4.0 and a.item() == 1.0


def test_changed_lr_takes_effect_on_next_step():
    a = _param([0.0])
    opt = optim.SGD([a], lr=1.0)
    a.grad = stepjit.tensor([1.0])
    opt.step()
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    assert a.item() == -1.5


def _train(opt, params, steps=3):
    for _ in range(steps):
        opt.zero_grad()
        sum(((p - 1.0) ** 2).sum() for p in params).backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1)])
def test_state_dict_round_trip_continues_identically(make):
    def fresh():
        return [_param([0.5, -1.0]), _param([[2.0]])]
    ps1 = fresh()
    opt1 = make(ps1)
    _train(opt1, ps1)
    sd = opt1.state_dict()
    assert sorted(sd["state"]) == [0, 1] and sd["param_groups"][0]["params"] == [0, 1]
    ps2 = [nn.Parameter(p.detach().clone()) for p in ps1]
    opt2 = make(ps2)
    opt2.load_state_dict(sd)
    assert opt2.state[ps2[0]] is not opt1.state[ps1[0]]  # loaded state is a copy
    _train(opt1, ps1)
    _train(opt2, ps2)
    for p1, p2 in zip(ps1, ps2):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())


def test_load_state_dict_restores_hyperparameters_and_checks_groups():
    a = _param([1.0])
    opt = optim.SGD([a], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.7
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.7 and opt.param_groups[0]["params"] == [a]
    other = optim.SGD([_param([1.0]), _param([2.0])], lr=0.1)
    with pytest.raises(ValueError, match="size"):
        other.load_state_dict(sd)


def test_repr():
    opt = optim.SGD([_param([1.0])], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in repr(opt)


def test_base_optimizer_has_no_update_rule():
    p = _param([1.0])
    opt = optim.Optimizer([p], {"lr": 0.1})
    p.grad = stepjit.ones(1)
    with pytest.raises(NotImplementedError):
        opt.step()
