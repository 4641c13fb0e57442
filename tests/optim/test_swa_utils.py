"""optim.swa_utils (AveragedModel, SWALR, update_bn, the average functions) and ASGD's state
against PyTorch's recorded values (tests/optim/swa_cases.py), compiled steps against eager,
and the argument checks."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit.optim import swa_utils
from tests.optim.swa_cases import CASES

RECORDED = np.load(Path(__file__).parents[1] / "fixtures" / "optim" / "swa.npz")


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_matches_pytorch(case):
    got = case(stepjit, lambda f: f)
    name = case.__name__
    want = {k.split("/", 1)[1]: RECORDED[k] for k in RECORDED.files if k.startswith(name + "/")}
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    for key, value in got.items():
        # (atol: the bias before a BatchNorm gets a zero gradient up to rounding, ~1e-10)
        np.testing.assert_allclose(value, want[key], rtol=1e-10, atol=1e-9, err_msg=key)


COMPILED = [c for c in CASES if c.__name__ != "swalr_linear"]


@pytest.mark.parametrize("case", COMPILED, ids=[c.__name__ for c in COMPILED])
def test_compiled_training_equals_eager(case):
    eager = case(stepjit, lambda f: f)
    compiled = case(stepjit, lambda f: stepjit.compile(f, backend="interpret"))
    for key, value in eager.items():
        np.testing.assert_allclose(compiled[key], value, rtol=1e-12, atol=1e-14, err_msg=key)


def test_update_parameters_inside_a_compiled_step():
    """The average written by a compiled step (after its first call) equals eager's."""
    def run(wrap):
        model = stepjit.nn.Linear(3, 2).double()
        with stepjit.no_grad():
            model.weight.copy_(stepjit.tensor(np.arange(6.0).reshape(2, 3) / 10))
            model.bias.zero_()
        opt = stepjit.optim.SGD(model.parameters(), lr=0.1)
        ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
        x = stepjit.tensor(np.linspace(-1, 1, 12).reshape(4, 3))

        def step():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            ema.update_parameters(model)
            return loss
        fn = wrap(step)
        for _ in range(4):
            fn()
        return ema.module.weight.detach().numpy(), int(ema.n_averaged)
    (w_eager, n_eager), (w_comp, n_comp) = run(lambda f: f), run(
        lambda f: stepjit.compile(f, backend="interpret"))
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-13)
    assert n_eager == n_comp == 4


def test_argument_checks():
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(stepjit.nn.Linear(1, 1), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    opt = stepjit.optim.SGD([stepjit.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        stepjit.optim.ASGD([stepjit.zeros(1, requires_grad=True)], lr=-1)
