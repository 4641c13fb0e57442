"""Tensor.as_strided / torch.as_strided (ops/strided.py): a view read against the storage, as
PyTorch reads it, with PyTorch's errors, its gradient, writes through it, and compiled steps."""
import warnings

import numpy as np
import pytest

import stepjit as torch


def _reference(storage, size, stride, offset):
    out = np.empty(size, storage.dtype)
    for i in np.ndindex(*size):
        out[i] = storage[offset + sum(a * b for a, b in zip(i, stride))]
    return out


@pytest.mark.parametrize("size, stride, offset", [
    ((3, 3), (3, 1), 0), ((3, 3), (4, 1), 0), ((5, 4), (2, 1), 3), ((2, 3, 2), (6, 1, 3), 1),
    ((4,), (0,), 7), ((0, 3), (1, 1), 16)])
def test_values_are_read_from_the_storage(size, stride, offset):
    x = torch.arange(16.0)
    out = x.as_strided(size, stride, offset)
    assert out.shape == size and out.stride() == stride
    assert np.array_equal(out.numpy(), _reference(np.arange(16.0), size, stride, offset))
    assert torch.equal(torch.as_strided(x, size, stride, offset), out)


def test_a_view_reads_its_storage_not_itself():
    x = torch.arange(16.0)
    # a slice starts at its own offset in the storage, and may read past its end
    assert x[4:8].as_strided((2, 2), (1, 1)).tolist() == [[4.0, 5.0], [5.0, 6.0]]
    assert x[4:8].as_strided((2, 2), (4, 1)).tolist() == [[4.0, 5.0], [8.0, 9.0]]
    # a transpose reads the row-major memory it shares
    assert x.view(4, 4).t().as_strided((2, 2), (1, 1)).tolist() == [[0.0, 1.0], [1.0, 2.0]]
    # an explicit offset counts from the start of the storage
    assert x[8:].as_strided((2,), (1,), 1).tolist() == [1.0, 2.0]


def test_writes_through_the_view_reach_the_tensor():
    a = torch.zeros(6)
    a.as_strided((2, 2), (3, 1)).fill_(1.0)
    assert a.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]


def test_gradient_adds_every_read():
    x = torch.arange(6.0, dtype=torch.float64, requires_grad=True)
    y = x.as_strided((2, 3), (1, 1))
    assert type(y.grad_fn).__name__ == "AsStridedBackward0"
    (y * torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 6.0, 8.0, 6.0, 0.0, 0.0]   # x[1] read by (0,1) and (1,0)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    # (a copy of the view: gradcheck perturbs w in place, which a view would follow)
    assert torch.autograd.gradcheck(lambda t: t.t().as_strided((3, 2), (2, 3), 1) * 1.0, (w,))


@pytest.mark.parametrize("args, message", [
    (((3, 3), (3, 1), 8), "setStorage: sizes [3, 3], strides [3, 1], storage offset 8, and "
     "itemsize 4 requiring a storage size of 68 are out of bounds for storage of size 64"),
    (((2, 2), (1, 1), 20), "setStorage: sizes [2, 2], strides [1, 1], storage offset 20, and "
     "itemsize 4 requiring a storage size of 92 are out of bounds for storage of size 64"),
    (((2,), (-1,)), "Negative strides are not supported at the moment, got strides: [-1]"),
    (((2, 2), (1,)), "mismatch in length of strides and shape"),
    (((-1, 2), (1, 1)), "Storage size calculation overflowed with sizes=[-1, 2] and "
     "strides=[1, 1]"),
])
def test_pytorch_errors_name_the_line(args, message):
    x = torch.arange(16.0)
    with pytest.raises(RuntimeError) as e:
        x[4:].as_strided(*args) if len(args) == 3 else x.as_strided(*args)
    assert message in str(e.value) and "test_as_strided.py:" in str(e.value)
    assert x.tolist() == list(range(16))


def _windows_step(w):
    def step(x):
        h = x * 2.0
        windows = h.as_strided((x.shape[0] - 2, 3), (1, 1))   # of a value the step computed
        pairs = x.as_strided((2, 2), (1, 1), 1)                 # of its argument
        loss = (windows @ w).pow(2).mean() + pairs.sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.001 * w.grad)
            w.grad.zero_()
        return loss
    return step


def test_compiled_windows_equal_eager():
    results = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        w = torch.randn(3, dtype=torch.float64, requires_grad=True)
        step = _windows_step(w)
        f = torch.compile(step, backend="interpret") if compiled else step
        results[compiled] = [f(torch.arange(8.0, dtype=torch.float64) + i).item()
                             for i in range(4)] + w.tolist()
    assert results[True] == results[False]
    assert f.stats()["mode"] == "tree" and f.stats()["fallbacks"] == 0


def test_an_input_over_part_of_a_larger_array_runs_eagerly():
    base = torch.arange(20.0)
    f = torch.compile(lambda t: t.as_strided((2, 2), (1, 1)).sum(), backend="interpret")
    with pytest.warns(UserWarning, match=r"as_strided at test_as_strided.py:\d+ reads the memory"):
        assert f(base[4:]).item() == 4 + 5 + 5 + 6
    assert f(base[4:]).item() == 20.0


def test_matches_pytorch():
    T = pytest.importorskip("torch")
    for size, stride, offset in [((3, 3), (4, 1), 1), ((2, 3, 2), (6, 1, 3), 1)]:
        ours = torch.arange(16.0).view(4, 4).t().as_strided(size, stride, offset)
        theirs = T.arange(16.0).view(4, 4).t().as_strided(size, stride, offset)
        assert ours.tolist() == theirs.tolist()
