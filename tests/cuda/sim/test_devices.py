"""Devices: placement, moves, printing, errors (docs/cuda.md)."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


def test_idiom_and_queries():
    assert torch.cuda.is_available()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert device.type == "cuda" and torch.cuda.device_count() >= 1
    torch.cuda.synchronize()


def test_factories_moves_and_printing():
    x = torch.randn(2, 3, device="cuda")
    assert x.device == "cuda:0" and x.is_cuda and str(x.device) == "cuda:0"
    assert "device='cuda:0'" in repr(x)
    assert torch.zeros(2, device="cuda").device.type == "cuda"
    assert torch.zeros_like(x).device.type == "cuda"
    assert torch.arange(4, device=torch.device("cuda")).tolist() == [0, 1, 2, 3]
    h = np.arange(6, dtype=np.float32).reshape(2, 3)
    c = torch.tensor(h).cuda()
    assert c.cuda() is c and c.to("cuda") is c
    back = c.cpu()
    assert back.device == "cpu" and np.array_equal(back.numpy(), h)
    assert c.to("cpu", torch.float64).dtype is torch.float64
    assert repr(torch.tensor([2.0], device="cuda", requires_grad=True)) == \
        "tensor([2.], device='cuda:0', requires_grad=True)"
    assert c.sum().item() == 15.0
    for t in (torch.tensor(3.0, device="cuda"), torch.tensor(2.0).cuda()):   # 0-dim stays 0-dim
        assert t.shape == () and t.cpu().numpy().shape == ()


def test_int_ordinals_name_cuda_devices():
    x = torch.ones(2)
    assert x.cuda(0).device == "cuda:0" and x.to(0).device == "cuda:0"
    assert x.to(0, torch.float64).dtype is torch.float64
    m = nn.Linear(2, 2).cuda(0)
    assert m.weight.device == "cuda:0"
    if torch.cuda.device_count() == 1:
        with pytest.raises(RuntimeError, match="invalid device ordinal 1"):
            x.cuda(1)


def test_numpy_and_mixed_devices_raise():
    x = torch.ones(2, 2, device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    with pytest.raises(RuntimeError, match=r"add: .*cuda:0 and cpu.*test_devices.py"):
        x + torch.ones(2, 2)
    assert (x * torch.tensor(3.0)).device.type == "cuda"   # a 0-dim cpu tensor is a scalar


def test_module_to_device_keeps_parameters():
    m = nn.Linear(3, 2)
    w = m.weight
    m.to(torch.device("cuda"))
    assert m.weight is w and w.device.type == "cuda" and w.requires_grad
    m.cpu()
    assert w.device.type == "cpu"


def _allocate_together(shared, n=16):
    """n threads reach the same cuda.shared.array line at once (as a block's threads do)."""
    import sys
    import threading
    barrier, got = threading.Barrier(n), []

    def thread():
        barrier.wait()
        got.append(shared.array(8, np.float64))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=thread) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return got


@pytest.mark.skipif(not torch.cuda.is_simulator(), reason="Numba's CUDA simulator only")
def test_simulator_block_threads_get_one_shared_array():
    """stepjit.cuda locks the simulator's shared-array lookup: unlocked, threads racing to the
    same line could each get their own array, and reductions through it lost partial sums."""
    from numba.cuda.simulator import kernelapi
    for _ in range(50):        # unlocked, about 3 rounds in 20 went wrong
        got = _allocate_together(kernelapi.FakeCUDAShared(0))
        assert len({id(a) for a in got}) == 1
