"""Tensor.storage(), untyped_storage() and storage_offset(): the flat memory a tensor and its
views share, shown and written as in PyTorch (a tensors chapter indexes a transposed matrix's
storage, writes one element through it, and reads a row's offset)."""
import numpy as np
import pytest

import stepjit as torch


def _points():
    return torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])


def test_storage_is_the_flat_memory_in_row_major_order():
    points = _points()
    storage = points.storage()
    assert len(storage) == 6 and storage.dtype is torch.float32
    assert storage.tolist() == [4.0, 1.0, 5.0, 3.0, 2.0, 1.0]
    assert isinstance(storage[0], float) and storage[2] == 5.0
    assert points.t().storage().tolist() == storage.tolist()     # a view shares it
    assert points[1:].storage().tolist() == storage.tolist()


def test_writing_the_storage_writes_every_tensor_over_it():
    points = _points()
    transposed = points.t()
    points.storage()[0] = 2.0
    points.untyped_storage()[14] = 0x80   # 3.0 is 0x40400000 little-endian: now 0x40800000, 4.0
    assert points[0, 0].item() == 2.0 and transposed[0, 0].item() == 2.0
    np.testing.assert_array_equal(points.numpy(), [[2, 1], [5, 4], [2, 1]])


@pytest.mark.parametrize("view, offset", [
    (lambda p: p[1], 2), (lambda p: p[2], 4), (lambda p: p[1:], 2), (lambda p: p.t(), 0),
    (lambda p: p[:, 1], 1), (lambda p: p.t()[1], 1), (lambda p: p.reshape(-1)[3:5], 3),
    (lambda p: p.clone()[1], 2), (lambda p: p.contiguous(), 0),
])
def test_storage_offset_of_views(view, offset):
    assert view(_points()).storage_offset() == offset


def test_a_copy_has_storage_of_its_own():
    points = _points()
    copy = points.t().contiguous()
    copy.storage()[0] = 9.0
    assert points[0, 0].item() == 4.0
    assert copy.storage().tolist() == [9.0, 5.0, 2.0, 1.0, 3.0, 1.0]


def test_printed_like_pytorch():
    text = repr(torch.arange(3).storage())
    assert text == " 0\n 1\n 2\n[stepjit.storage.TypedStorage(dtype=stepjit.int64, device=cpu) of size 3]"
    assert repr(torch.zeros(0).storage()).startswith("[stepjit.storage.TypedStorage(")
    assert torch.ones(2, 3).untyped_storage().nbytes() == 24


def test_inside_a_compiled_step_the_error_names_the_tensor_and_line():
    @torch.compile
    def step(x):
        return (x * 2).storage()[0]
    with pytest.raises(RuntimeError, match=r"storage\(\): the float32 \[4\] tensor inside a "
                                           r"compiled step has no CPU storage.*test_storage.py"):
        step(torch.arange(4.0))


def test_matches_pytorch():
    torch_ = pytest.importorskip("torch")
    for make in (torch, torch_):
        p = make.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
        views = [p[1], p.t(), p[:, 1], p.t()[1], p.reshape(-1)[3:5], p.expand(2, 3, 2)[1]]
        got = [(v.storage_offset(), v.stride(), list(v.untyped_storage())[:8]) for v in views]
        if make is torch:
            ours = got
    assert ours == got
