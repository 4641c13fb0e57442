"""Every optimizer against PyTorch's recorded float64 trajectories (tests/optim/cases.py,
recorded by tests/fixtures/record_optim.py), each inside a compiled step against eager, and
the constructors' errors."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
import stepjit.optim as optim
from tests.optim.cases import OPTIMIZERS, run_optimizer

RECORDED = np.load(Path(__file__).parents[1] / "fixtures" / "optim" / "trajectories.npz")


@pytest.mark.parametrize("name, cls, kw, groups", OPTIMIZERS, ids=[c[0] for c in OPTIMIZERS])
def test_trajectory_matches_pytorch(name, cls, kw, groups):
    got = run_optimizer(stepjit, cls, kw, groups)
    for key, value in got.items():
        np.testing.assert_allclose(value, RECORDED[f"{name}/{key}"], rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}: {key}")


COMPILED = [c for c in OPTIMIZERS if c[1] != "LBFGS" and not c[3]]


@pytest.mark.parametrize("name, cls, kw, groups", COMPILED, ids=[c[0] for c in COMPILED])
def test_a_compiled_step_equals_eager(name, cls, kw, groups):
    """Six steps of a small float64 model, eager and compiled (the interpreter backend: the
    tracer, autodiff and passes that handle optimizer state, without building kernels)."""
    from tests.optim.cases import _loss, _params

    def run(compiled):
        w, b = _params(stepjit)
        opt = getattr(optim, cls)([w, b], **kw)

        def step():
            opt.zero_grad()
            loss = _loss(stepjit, w, b)
            loss.backward()
            opt.step()
            return loss
        fn = stepjit.compile(step, backend="interpret") if compiled else step
        losses = [fn().item() for _ in range(6)]
        return losses, w.detach().numpy(), b.detach().numpy(), fn
    eager, compiled = run(False), run(True)
    for e, c in zip(eager[:3], compiled[:3]):
        np.testing.assert_allclose(c, e, rtol=1e-13, atol=1e-15)
    # The first call makes the grads and state (its trace is for that call only); then one
    # trace serves every later step: no step count or schedule value is baked in.
    stats = compiled[3].stats()
    assert stats["traces"] == 2 and stats["fallbacks"] == 0


def test_lbfgs_refuses_groups_and_unknown_line_searches():
    w = stepjit.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [stepjit.zeros(1, requires_grad=True)]}])
    opt = optim.LBFGS([w], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


BAD_OPTIMIZERS = [   # (class name, keywords, PyTorch 2.13's ValueError text)
    ("RMSprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("RMSprop", dict(eps=-1), "Invalid epsilon value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("RAdam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("LBFGS", dict(lr=-1), "Invalid learning rate: -1"),
    ("Rprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("Rprop", dict(etas=(1.2, 0.5)), "Invalid eta values: 1.2, 0.5"),
]


def _bad(T, i):
    cls, kw, text = BAD_OPTIMIZERS[i]
    with pytest.raises(ValueError) as err:
        getattr(T.optim, cls)([T.zeros(2, requires_grad=True)], **kw)
    assert str(err.value) == text


@pytest.mark.parametrize("i", range(len(BAD_OPTIMIZERS)))
def test_bad_hyperparameters_raise_pytorchs_errors(i):
    _bad(stepjit, i)


@pytest.mark.parametrize("i", range(len(BAD_OPTIMIZERS)))
def test_bad_hyperparameter_errors_match_torch(i):
    _bad(pytest.importorskip("torch"), i)


@pytest.mark.parametrize("name, cls, kw, groups", OPTIMIZERS, ids=[c[0] for c in OPTIMIZERS])
def test_state_dict_layout_matches_torch(name, cls, kw, groups):
    torch = pytest.importorskip("torch")
    from tests.optim.cases import _loss, _params

    def layout(T):
        w, b = _params(T)
        opt = getattr(T.optim, cls)([w, b], **kw)

        def closure():
            opt.zero_grad()
            loss = _loss(T, w, b)
            loss.backward()
            return loss
        opt.step(closure)
        sd = opt.state_dict()
        return ({k: sorted(v) for k, v in sd["state"].items()},
                [sorted(g) for g in sd["param_groups"]])
    assert layout(stepjit) == layout(torch)
