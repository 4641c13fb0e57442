"""The real-model benchmark cases W7 (CNN) and W8 (character transformer) build, and their
variants compute the same training run: stepjit compiled against stepjit eager, the hand
NumPy CNN against stepjit eager, and (when installed) PyTorch eager and jax.jit. Small
sizes, the same code the benchmark times; three steps each, so the third loss depends on two
optimizer updates."""
import numpy as np
import pytest

from benchmarks.cases import CASES, models as M
from benchmarks.workloads import SIZES, WORKLOADS

CNN = M.CNN(batch=4, side=8, channels=2)
GPT = M.GPT(batch=2, block=4, n_embd=8, heads=2, layers=1, vocab=11)
STEPS = 3
MAKE = {"cnn": (M.make_cnn, CNN), "gpt": (M.make_gpt, GPT)}


def _losses(step):
    return np.array([float(step().item()) for _ in range(STEPS)])


@pytest.fixture(scope="module", params=["cnn", "gpt"])
def eager(request):
    make, cfg = MAKE[request.param]
    return request.param, _losses(M.setup(make, "stepjit", "eager", cfg)())


def test_compiled_matches_eager(eager):
    name, want = eager
    make, cfg = MAKE[name]
    got = _losses(M.setup(make, "stepjit", "compile", cfg)())
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert want[2] < want[0]    # the steps train


def test_hand_numpy_cnn_matches_eager(eager):
    name, want = eager
    if name != "cnn":
        pytest.skip("W8 has no NumPy variant")
    np.testing.assert_allclose(_losses(M._numpy_cnn(CNN)), want, rtol=1e-5)


def test_pytorch_eager_matches(eager):
    pytest.importorskip("torch")
    name, want = eager
    make, cfg = MAKE[name]
    np.testing.assert_allclose(_losses(M.setup(make, "torch", "eager", cfg)()), want, rtol=1e-5)


def test_jax_matches(eager):
    pytest.importorskip("jax")
    if M.jax_missing():
        pytest.skip("jax unavailable")
    name, want = eager
    build = {"cnn": M._jax_cnn, "gpt": M._jax_gpt}[name]
    cfg = MAKE[name][1]
    np.testing.assert_allclose(_losses(build(cfg)()), want, rtol=1e-5)


def test_cases_are_workloads_w7_w8():
    names = {c.name for c in CASES}
    for label, case in (("W7", "w7_cnn"), ("W8", "w8_char_transformer")):
        assert (label, case) in WORKLOADS and case in names and case in SIZES
    systems = {v.name for v in next(c for c in CASES if c.name == "w7_cnn").variants}
    assert {"stepjit compile", "stepjit eager", "torch eager", "torch.compile", "jax.jit",
            "numpy"} <= systems
