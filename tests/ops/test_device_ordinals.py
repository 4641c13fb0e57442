"""`.to(1)`, `.cuda(1)`: PyTorch reads a bare int as a CUDA ordinal, never as a dtype (d2l's
use-gpu chapter calls `X.cuda(1)`). Without a GPU both raise the no-CUDA RuntimeError; the
simulator side (a real move to cuda:0, ordinal 1 refused) is in tests/cuda/sim/test_devices.py."""
import pytest

import stepjit as torch
from stepjit.ops.convert import to_args

needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")


def test_an_int_names_a_device_and_a_dtype_stays_a_dtype():
    assert to_args((1,)) == (None, 1)
    assert to_args((0, torch.float64)) == (torch.float64, 0)
    assert to_args(("cpu",)) == (None, "cpu")
    assert to_args((torch.int64,)) == (torch.int64, None)
    t = torch.zeros(1, dtype=torch.float64)
    assert to_args((t,)) == (torch.float64, t.device)


@needs_no_gpu
@pytest.mark.parametrize("move", [lambda: torch.ones(2).cuda(1), lambda: torch.ones(2).to(1),
                                  lambda: torch.ones(2).to(0, torch.float64),
                                  lambda: torch.nn.Linear(2, 2).cuda(1),
                                  lambda: torch.nn.Linear(2, 2).to(0)])
def test_ordinal_without_a_gpu_raises_the_cuda_error(move):
    with pytest.raises(RuntimeError, match="no CUDA device"):
        move()


def test_module_to_a_tensor_takes_its_dtype():
    m = torch.nn.Linear(2, 2).to(torch.zeros(1, dtype=torch.float64))
    assert m.weight.dtype is torch.float64 and m.weight.device.type == "cpu"
