"""On a CUDA device (or the simulator): DataParallel moves the module to cuda:0 and runs it,
data_parallel/scatter/gather work for device 0, and the memory and timing queries answer."""
import importlib

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


def test_data_parallel_runs_the_module_on_the_device():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    want = net(torch.ones(4, 3)).detach().numpy()
    dp = nn.DataParallel(net, device_ids=[0])
    assert dp.device_ids == [0] and dp.output_device == 0
    assert net.weight.device.type == "cuda"
    out = dp(torch.ones(4, 3))                     # a host batch is moved, as scatter does
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.cpu().detach().numpy(), want, rtol=1e-6)
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    got = nn.parallel.data_parallel(net, torch.ones(4, 3), device_ids=[0])
    np.testing.assert_allclose(got.cpu().detach().numpy(), want, rtol=1e-6)
    importlib.import_module("stepjit.nn.parallel.data_parallel")._WARNED.clear()
    with pytest.warns(UserWarning, match="one CUDA device"):
        nn.DataParallel(nn.Linear(3, 2), device_ids=[0, 0])
    with pytest.raises(RuntimeError, match="device 0 only"):
        nn.DataParallel(nn.Linear(3, 2), device_ids=[1])


def test_scatter_and_gather_on_device_zero():
    (x,) = nn.parallel.scatter(torch.arange(4), [0])
    assert x.device.type == "cuda" and x.cpu().tolist() == [0, 1, 2, 3]
    g = nn.parallel.gather([torch.ones(1, device="cuda"), torch.zeros(1)], 0)
    assert g.device.type == "cuda" and g.cpu().tolist() == [1.0, 0.0]


def test_memory_and_timing_queries_answer():
    c = torch.cuda
    assert c.memory_allocated() >= 0 and c.memory_reserved() == c.memory_allocated()
    assert len(c.get_device_capability()) == 2 and c.get_device_properties(0).major >= 1
    free, total = c.mem_get_info()
    assert 0 <= free <= total
    with pytest.raises(NotImplementedError, match="peak"):
        c.max_memory_allocated()
    start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
    start.record()
    (torch.randn(8, device="cuda") * 2).sum().item()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0.0


def test_cuda_legacy_types_make_device_tensors():
    t = torch.cuda.FloatTensor(2, 3).fill_(1.0)
    assert t.device.type == "cuda" and t.dtype is torch.float32
    assert isinstance(t, torch.cuda.FloatTensor) and not isinstance(t, torch.cuda.LongTensor)
    assert isinstance(torch.cuda.LongTensor([1, 2]), torch.cuda.LongTensor)
    assert float(t.sum()) == 6.0
