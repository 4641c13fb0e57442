"""`torch._C` names that user programs import (an editor's auto-import writes
`from torch._C import device`): the same objects as the top-level API's, and a clear
AttributeError for PyTorch's C internals."""
import subprocess
import sys
from pathlib import Path

import pytest

import stepjit as torch

ROOT = Path(__file__).resolve().parent.parent


def test_from_import_in_a_fresh_interpreter_gives_the_api_classes():
    # the form programs use, before anything else has loaded stepjit's API
    code = ("from stepjit._C import device, dtype, Size\n"
            "import stepjit as torch\n"
            "assert device is torch.device and dtype is torch.dtype and Size is torch.Size\n"
            "assert torch.zeros(2, device=device('cpu')).device == torch.device('cpu')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.parametrize("name", ["device", "dtype", "Size", "Generator", "layout",
                                  "memory_format", "finfo", "iinfo", "is_grad_enabled",
                                  "default_generator", "get_default_dtype", "set_num_threads"])
def test_shared_names_are_the_api_objects(name):
    assert getattr(torch._C, name) is getattr(torch, name)


def test_tensor_base_holds_every_tensor():
    x = torch.ones(3, requires_grad=True)
    assert isinstance(x, torch._C.TensorBase) and isinstance(x * 2, torch._C._TensorBase)
    assert not isinstance([1.0], torch._C.TensorBase)


def test_no_torchscript_tracing_state():
    assert torch._C._get_tracing_state() is None


def test_internals_raise_naming_the_missing_name():
    with pytest.raises(AttributeError, match=r"torch\._C\._nn is part of PyTorch's C extension"):
        torch._C._nn
    with pytest.raises(ImportError, match="_VariableFunctions"):
        exec("from stepjit._C import _VariableFunctions", {})


def test_set_flush_denormal_reports_unsupported_and_keeps_subnormals():
    # what PyTorch returns on a CPU without FTZ/DAZ: False, and nothing flushed
    from stepjit._C import set_flush_denormal
    assert set_flush_denormal is torch.set_flush_denormal
    assert torch.set_flush_denormal(True) is False and torch.set_flush_denormal(False) is False
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    assert (tiny * 1.0).item() != 0.0
    with pytest.raises(RuntimeError, match="flush_denormal expects a bool, but got int"):
        torch.set_flush_denormal(1)
