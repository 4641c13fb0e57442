"""torch.cuda's memory and timing queries on a machine without CUDA answer as CPU-only
PyTorch's do: counters 0, memory_stats empty, device queries and Event raise. (On a device
they are checked by tests/cuda/sim/test_parallel_and_queries.py.)"""
import pytest

import stepjit


@pytest.fixture(autouse=True)
def no_cuda(monkeypatch):
    monkeypatch.setattr(stepjit.cuda, "is_available", lambda: False)


def test_memory_counters_are_zero():
    c = stepjit.cuda
    assert [c.memory_allocated(), c.max_memory_allocated(), c.memory_reserved(),
            c.max_memory_reserved(), c.memory_cached(), c.memory_allocated(0)] == [0] * 6
    assert c.memory_stats() == {}
    c.empty_cache()
    assert not c.is_bf16_supported() and c.device_count() == 0


@pytest.mark.parametrize("call", [
    lambda c: c.get_device_capability(), lambda c: c.get_device_properties(0),
    lambda c: c.mem_get_info(), lambda c: c.reset_peak_memory_stats(),
    lambda c: c.reset_max_memory_allocated(), lambda c: c.memory_summary(),
    lambda c: c.current_device(), lambda c: c.get_device_name(), lambda c: c.ipc_collect(),
], ids=["capability", "properties", "mem_get_info", "reset_peak", "reset_max", "summary",
        "current_device", "device_name", "ipc_collect"])
def test_device_queries_raise(call):
    with pytest.raises(RuntimeError, match="no CUDA device"):
        call(stepjit.cuda)


def test_event_cannot_be_made():
    with pytest.raises(RuntimeError, match="Tried to instantiate dummy base class Event"):
        stepjit.cuda.Event(enable_timing=True)
