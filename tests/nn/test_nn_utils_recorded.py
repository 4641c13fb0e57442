"""nn.utils' parametrize, weight/spectral norm (both forms), orthogonal and prune against
PyTorch's recorded values (tests/nn/utils_cases.py, tests/fixtures/record_nn_utils.py):
losses after several SGD steps, gradients, masks and state_dict keys; and each training case
compiled against eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.nn import utils_cases
from tests.nn.utils_cases import CASES

RECORDED = np.load(Path(__file__).parents[1] / "fixtures" / "nn_utils" / "cases.npz")


def _compare(name, got, rtol=1e-9, atol=1e-11):
    want = {k.split("/", 1)[1]: RECORDED[k] for k in RECORDED.files if k.startswith(name + "/")}
    assert set(got) == set(want), f"{name}: {sorted(set(got) ^ set(want))}"
    for key, value in got.items():
        if value.dtype.kind in "US":
            assert str(value) == str(want[key]), f"{name}: {key}"
        else:
            np.testing.assert_allclose(value, want[key], rtol=rtol, atol=atol,
                                       err_msg=f"{name}: {key}")


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_matches_pytorch(case):
    _compare(case.__name__, case(stepjit, lambda f: f))


# The cases that train through a parametrized or pruned weight, compiled.
TRAINING = [utils_cases.weight_norm, utils_cases.weight_norm_conv, utils_cases.legacy_weight_norm,
            utils_cases.spectral_norm, utils_cases.legacy_spectral_norm, utils_cases.orthogonal,
            utils_cases.parametrize_chain, utils_cases.prune_l1_then_structured]


@pytest.mark.parametrize("case", TRAINING, ids=[c.__name__ for c in TRAINING])
def test_compiled_step_equals_eager(case):
    """The interpreter backend: the tracer, autodiff and passes, without building kernels."""
    stats = []

    def wrap(step):
        fn = stepjit.compile(step, backend="interpret")
        stats.append(fn)
        return fn
    eager = case(stepjit, lambda f: f)
    compiled = case(stepjit, wrap)
    for key, value in eager.items():
        if value.dtype.kind in "US":
            assert str(compiled[key]) == str(value), key
        else:
            np.testing.assert_allclose(compiled[key], value, rtol=1e-12, atol=1e-14, err_msg=key)
    assert stats[0].stats()["fallbacks"] == 0


@pytest.mark.parametrize("case", [utils_cases.weight_norm, utils_cases.spectral_norm],
                         ids=["weight_norm", "spectral_norm"])
def test_parametrized_weight_traces_once(case):
    """A parametrization is arithmetic on its original (spectral norm's power iteration
    writes its buffers in place): after the first call, which makes the optimizer state, one
    trace serves every step."""
    fns = []

    def wrap(step):
        fns.append(stepjit.compile(step, backend="interpret"))
        return fns[-1]
    case(stepjit, wrap)
    assert fns[0].stats()["traces"] == 2
