"""stepjit.amp: autocast runs in full precision; GradScaler is PyTorch's dynamic scaling
(checked against the documented rule and, where installed, PyTorch's own CPU scaler)."""
import math
import warnings

import numpy as np
import pytest

import stepjit
from stepjit import nn


def _setup(seed=0):
    stepjit.manual_seed(seed)
    model = nn.Linear(3, 2)
    opt = stepjit.optim.SGD(model.parameters(), lr=0.1)
    return model, opt


def test_gradscaler_on_cuda_without_cuda_warns_and_passes_through():
    if stepjit.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = stepjit.cuda.amp.GradScaler(enabled=True)
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    model, opt = _setup()
    loss = model(stepjit.ones(4, 3)).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    before = model.weight.detach().numpy().copy()
    scaler.step(opt)
    scaler.update()
    assert not np.array_equal(before, model.weight.detach().numpy())


def test_gradscaler_scales_unscales_and_skips_inf_steps():
    model, opt = _setup()
    scaler = stepjit.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    x = stepjit.ones(4, 3)
    scaler.scale(model(x).sum()).backward()
    np.testing.assert_allclose(model.bias.grad.numpy(), [32.0, 32.0])     # 4 rows * scale 8
    scaler.unscale_(opt)
    np.testing.assert_allclose(model.bias.grad.numpy(), [4.0, 4.0])
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 8.0                 # 1 clean step of 2
    opt.zero_grad()
    scaler.scale(model(x).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 16.0                # grown after growth_interval clean steps
    opt.zero_grad()
    before = model.weight.detach().numpy().copy()
    scaler.scale(model(x * math.inf).sum()).backward()
    scaler.step(opt)                                 # inf gradients: the step is skipped
    scaler.update()
    np.testing.assert_array_equal(before, model.weight.detach().numpy())
    assert scaler.get_scale() == 8.0                 # backed off
    state = scaler.state_dict()
    other = stepjit.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.get_scale() == 8.0 and other.state_dict() == state


def test_gradscaler_matches_pytorch_on_cpu():
    torch = pytest.importorskip("torch")
    scales = {}
    for T in (stepjit, torch):
        T.manual_seed(0)
        w = T.nn.Parameter(T.tensor([1.0, -2.0]))
        opt = T.optim.SGD([w], lr=0.1)
        scaler = T.amp.GradScaler("cpu", init_scale=4.0, growth_interval=1)
        seen = []
        for factor in (1.0, float("inf"), 1.0, 1.0):
            opt.zero_grad()
            scaler.scale((w * w).sum() * factor).backward()
            scaler.step(opt)
            scaler.update()
            seen.append((scaler.get_scale(), w.detach().numpy().tolist()))
        scales[T.__name__] = seen
    assert scales["stepjit"] == scales["torch"]


def test_autocast_runs_in_full_precision_and_nests():
    model, _ = _setup()
    x = stepjit.ones(2, 3)
    ref = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with stepjit.autocast(device_type="cpu", dtype=stepjit.bfloat16):
            # per device type, as PyTorch: no argument asks about 'cuda'
            assert stepjit.is_autocast_enabled("cpu") and not stepjit.is_autocast_enabled()
            assert stepjit.get_autocast_dtype("cpu") is stepjit.bfloat16
            with stepjit.amp.autocast("cpu", enabled=False):
                assert not stepjit.amp.is_autocast_enabled("cpu")
            out = model(x)
    assert not stepjit.amp.is_autocast_enabled("cpu")
    assert stepjit.get_autocast_dtype("cuda") is stepjit.float16
    assert out.dtype is stepjit.float32
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())


def test_reduced_precision_dtypes_are_named_and_refused_for_tensors():
    ptdtype = {"float32": stepjit.float32, "bfloat16": stepjit.bfloat16,
               "float16": stepjit.float16}["float16"]
    assert stepjit.half is stepjit.float16 and ptdtype.is_floating_point
    with pytest.raises(TypeError, match="does not compute in float16"):
        stepjit.zeros(2, dtype=ptdtype)
    stored = stepjit.ones(2).to(stepjit.bfloat16)   # bfloat16 is storage (tests/ops/test_bfloat16.py)
    with pytest.raises(NotImplementedError, match="stores bfloat16 tensors but computes only"):
        stored * 2
    assert stepjit.cuda.is_bf16_supported() is False
    assert stepjit.finfo(stepjit.bfloat16).eps == 2.0 ** -7
