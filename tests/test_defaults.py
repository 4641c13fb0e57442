"""Process-wide settings (default dtype and device, inference_mode) and the device queries
programs make on a machine without an accelerator (accelerator, cuda, backends, device)."""
import pytest

import stepjit as torch
import stepjit.nn as nn

NO_CUDA = not torch.cuda.is_available()


@pytest.fixture
def float64_default():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_set_default_dtype_changes_floats_factories_layers_and_promotion(float64_default):
    assert torch.get_default_dtype() == torch.float64
    assert torch.tensor([1.5]).dtype == torch.float64 and torch.tensor([1]).dtype == torch.int64
    assert torch.zeros(2).dtype == torch.float64 and torch.randn(2).dtype == torch.float64
    assert nn.Linear(2, 3).weight.dtype == torch.float64
    assert (torch.arange(3) / 2).dtype == torch.float64
    assert torch.ones(2, dtype=torch.float32).dtype == torch.float32
    assert repr(torch.tensor([0.5])) == "tensor([0.5000])"     # the default is not printed
    assert repr(torch.tensor([0.5], dtype=torch.float32)) == \
        "tensor([0.5000], dtype=stepjit.float32)"


def test_set_default_dtype_refuses_integers():
    with pytest.raises(TypeError, match="only floating-point types are supported as the "
                                        "default type"):
        torch.set_default_dtype(torch.int64)
    assert torch.get_default_dtype() == torch.float32


def test_set_default_device():
    try:
        torch.set_default_device("cpu")
        assert torch.get_default_device() == torch.device("cpu")
        assert torch.zeros(2).device == torch.device("cpu")
        torch.set_default_device(torch.device("cuda"))
        if NO_CUDA:
            with pytest.raises(RuntimeError, match="stepjit has no CUDA device"):
                torch.zeros(2)
    finally:
        torch.set_default_device(None)
    assert torch.zeros(1).device.type == "cpu"


def test_inference_mode_as_context_and_decorators():
    x = torch.ones(2, requires_grad=True)
    with torch.inference_mode():
        assert not torch.is_grad_enabled() and torch.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()

    @torch.inference_mode()
    def called():
        return (x * 2).requires_grad

    @torch.inference_mode
    def bare():
        return (x * 2).requires_grad
    assert called() is False and bare() is False and torch.is_grad_enabled()
    with torch.inference_mode(False):
        assert (x * 2).requires_grad
    with torch.no_grad(), torch.inference_mode(False):
        assert not torch.is_grad_enabled()     # inference_mode(False) enables nothing


def test_a_machine_without_an_accelerator_answers_honestly():
    if not NO_CUDA:
        pytest.skip("CUDA (or its simulator) is available here")
    assert torch.accelerator.is_available() is False
    assert torch.accelerator.device_count() == 0
    assert torch.accelerator.current_accelerator() is None
    for call in (torch.accelerator.current_device_index, torch.accelerator.synchronize,
                 lambda: torch.accelerator.set_device_index(0), lambda: torch.device(0)):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                               "available."):
            call()
    assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="no CUDA device"):
        torch.cuda.current_device()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # the idiom
    assert torch.zeros(2).to(device).device == device


def test_backend_flags_people_set():
    import stepjit.backends.cudnn as cudnn
    cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = True
    assert torch.backends.cudnn.benchmark is True
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.backends.cudnn.is_available() is False
    cudnn.benchmark = False
    torch.backends.cudnn.deterministic = False
    torch.use_deterministic_algorithms(True)
    assert torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    torch.set_float32_matmul_precision("high")
    assert torch.get_float32_matmul_precision() == "high"
    torch.set_float32_matmul_precision("highest")


def test_device_forms_and_to_on_the_cpu():
    assert torch.device("cpu:0") == torch.device("cpu") and torch.device("cpu:0").index == 0
    assert torch.device(type="cuda", index=1) == torch.device("cuda:1")
    assert str(torch.device("cuda", 1)) == "cuda:1"
    assert repr(torch.device("cuda", 1)) == "device(type='cuda', index=1)"
    t = torch.ones(2)
    assert t.to("cpu") is t and t.to(torch.device("cpu")) is t and t.cpu() is t
    assert t.to(torch.device("cpu"), torch.float64).dtype == torch.float64
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        torch.device("xyz")


def test_answers_match_torch():
    real = pytest.importorskip("torch")
    if real.cuda.is_available() or not NO_CUDA:
        pytest.skip("compares CPU-only answers")
    for T in (torch, real):
        assert (T.accelerator.is_available(), T.accelerator.device_count(),
                T.accelerator.current_accelerator(), T.cuda.is_available(),
                T.backends.mps.is_available(), T.backends.cudnn.benchmark) == \
            (False, 0, None, False, False, False)
