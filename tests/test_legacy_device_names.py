"""Names the API scan of real programs found missing: `torch.cuda.FloatTensor` and kin
(PyTorch-GAN's `Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`),
`torch.has_mps`, `torch.accelerator.device_index`, `torch.autograd.variable.Variable`. On a
machine without CUDA, as CPU-only PyTorch answers (the device side: tests/cuda/sim)."""
import pytest

import stepjit as torch


@pytest.fixture(autouse=True)
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cuda_legacy_types_refuse_without_cuda_and_check_device():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "ByteTensor", "BFloat16Tensor"):
        cls = getattr(torch.cuda, name)
        with pytest.raises(TypeError, match=f"type torch.cuda.{name} not available"):
            cls(2, 3)
    assert not isinstance(torch.ones(2), torch.cuda.FloatTensor)
    assert isinstance(torch.ones(2), torch.FloatTensor)
    assert repr(torch.cuda.LongTensor) == "<class 'stepjit.cuda.LongTensor'>"


def test_gan_style_type_choice_runs_on_the_cpu():
    cuda = bool(torch.cuda.is_available())
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    valid = Tensor(4, 1).fill_(1.0)
    assert valid.dtype is torch.float32 and float(valid.sum()) == 4.0


def test_has_mps_accelerator_device_index_and_variable_module():
    assert torch.has_mps is False
    with torch.accelerator.device_index(None):
        pass
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none"):
        with torch.accelerator.device_index(0):
            pass
    from stepjit.autograd.variable import Variable
    assert Variable is torch.autograd.Variable


def test_matches_live_pytorch():
    real = pytest.importorskip("torch")
    if real.cuda.is_available():
        pytest.skip("PyTorch with CUDA")
    with pytest.raises(TypeError, match="type torch.cuda.FloatTensor not available"):
        real.cuda.FloatTensor(2)
    assert real.has_mps is False
