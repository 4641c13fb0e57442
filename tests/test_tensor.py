"""The Tensor object: conversion to Python/NumPy, clean errors, and PyTorch's printing."""
import os
import re

import numpy as np
import pytest

import stepjit as torch

HERE = os.path.basename(__file__)


# -- conversion ---------------------------------------------------------------------------
def test_item_tolist_numpy():
    t = torch.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t[0, 0].item() == 1.5 and isinstance(t[0, 0].item(), float)
    assert torch.tensor([3]).item() == 3 and isinstance(torch.tensor([3]).item(), int)
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert torch.tensor(True).tolist() is True
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0, 0] = 9  # numpy() shares storage, as in PyTorch
    assert t[0, 0].item() == 9
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    r = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0, 1.0]


def test_from_numpy_shares_and_tensor_copies():
    a = np.zeros(3)
    f = torch.from_numpy(a)
    t = torch.tensor(a)
    a[0] = 1
    assert f[0].item() == 1 and t[0].item() == 0
    assert f.dtype is torch.float64 and torch.tensor([1.0]).dtype is torch.float32
    assert torch.tensor([1, 2]).dtype is torch.int64


def test_python_number_protocols():
    t = torch.tensor(2.5)
    assert float(t) == 2.5 and int(t) == 2 and bool(torch.tensor([1]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(torch.tensor([1, 2]))
    assert [x.item() for x in torch.tensor([1, 2])] == [1, 2]
    assert len(torch.zeros(4, 2)) == 4
    assert f"{torch.tensor(0.5):.2f}" == "0.50"


def test_shape_and_metadata():
    t = torch.zeros(2, 3, dtype=torch.float64)
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3
    assert repr(t.shape) == "stepjit.Size([2, 3])"
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6
    assert t.dtype is torch.double and t.is_floating_point()
    assert t.device == "cpu" and str(t.device) == "cpu"


# -- errors name the op, the shapes and the user's line; tensors are left unchanged -------------
def _raises_at(fn, exc, pattern):
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert HERE + ":" in msg, msg
    assert "numpy" not in msg.lower() or "NumPy" in msg, msg
    e = info.value  # no chained NumPy traceback shown to the user
    assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)
    return msg


def test_matmul_shape_error():
    a, b = torch.ones(2, 3), torch.ones(4, 5)
    _raises_at(lambda: a @ b, RuntimeError, r"matmul.*\[2, 3\].*\[4, 5\]")


def test_add_broadcast_error():
    _raises_at(lambda: torch.ones(2, 3) + torch.ones(4), RuntimeError, r"add.*\[2, 3\].*\[4\]")


def test_index_out_of_range():
    x = torch.ones(3)
    _raises_at(lambda: x[10], RuntimeError, r"index.*10.*\[3\]")
    _raises_at(lambda: x[0, 0], RuntimeError, "too many indices")


def test_setitem_shape_mismatch_leaves_tensor_unchanged():
    x = torch.zeros(2, 3)
    _raises_at(lambda: x.__setitem__(0, torch.ones(4)), RuntimeError, r"\[4\].*\[3\]")
    assert x.tolist() == [[0.0] * 3] * 2


def test_reshape_wrong_size():
    x = torch.ones(2, 3)
    _raises_at(lambda: x.reshape(4, 2), RuntimeError, r"reshape.*\[4, 2\].*6")
    _raises_at(lambda: x.view(-1, 4), RuntimeError, r"view: .*6")


def test_int_inplace_with_float_result():
    y = torch.tensor([1, 2])
    _raises_at(lambda: y.add_(1.5), RuntimeError, r"add_.*float32.*int64")
    _raises_at(lambda: y.mul_(torch.tensor([0.5, 0.5])), RuntimeError, "mul_")
    _raises_at(lambda: y.div_(2), RuntimeError, "div_")
    assert y.tolist() == [1, 2]


def test_inplace_broadcast_to_bigger_shape():
    y = torch.ones(2)
    _raises_at(lambda: y.add_(torch.ones(3, 2)), RuntimeError, r"add_.*\[2\].*\[3, 2\]")
    assert y.tolist() == [1.0, 1.0]


def test_bad_dim_and_cat():
    _raises_at(lambda: torch.ones(2, 3).sum(3), RuntimeError, r"sum.*dim 3")
    _raises_at(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]), RuntimeError,
               r"\[2, 3\].*\[2, 4\]")


def test_dtype_errors():
    _raises_at(lambda: torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64), RuntimeError,
               "float32.*float64")
    _raises_at(lambda: torch.where(torch.ones(2), torch.ones(2), 0.0), RuntimeError, "bool")


# -- printing, against PyTorch's strings -------------------------------------------------------
REPRS = [
    (lambda: torch.tensor([[0.1337, 0.0], [-0.2115, 0.0]]),
     "tensor([[ 0.1337,  0.0000],\n        [-0.2115,  0.0000]])"),
    (lambda: torch.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: torch.tensor([-1.0, 20.0]), "tensor([-1., 20.])"),
    (lambda: torch.tensor(24.0), "tensor(24.)"),
    (lambda: torch.tensor(0.5), "tensor(0.5000)"),
    (lambda: torch.tensor([0.0, 0.0]), "tensor([0., 0.])"),
    (lambda: torch.tensor([1.0, 10000.0]), "tensor([1.0000e+00, 1.0000e+04])"),
    (lambda: torch.tensor([0.00001, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: torch.tensor([1e9]), "tensor([1.0000e+09])"),
    (lambda: torch.tensor([1.5, float("nan"), float("inf")]), "tensor([1.5000,    nan,    inf])"),
    (lambda: torch.tensor([float("nan"), 1.0]), "tensor([nan, 1.])"),
    (lambda: torch.tensor([1, -20, 300]), "tensor([  1, -20, 300])"),
    (lambda: torch.tensor([True, False]), "tensor([ True, False])"),
    (lambda: torch.tensor([1.0, 2.0], dtype=torch.float64), "tensor([1., 2.], dtype=stepjit.float64)"),
    (lambda: torch.tensor([1, 2], dtype=torch.int32), "tensor([1, 2], dtype=stepjit.int32)"),
    (lambda: torch.ones(2, requires_grad=True), "tensor([1., 1.], requires_grad=True)"),
    (lambda: torch.ones(2, requires_grad=True) + 1, "tensor([2., 2.], grad_fn=<AddBackward0>)"),
    (lambda: torch.ones(2, dtype=torch.float64, requires_grad=True).sum(),
     "tensor(2., dtype=stepjit.float64, grad_fn=<SumBackward0>)"),
    (lambda: torch.zeros(0), "tensor([])"),
    (lambda: torch.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: torch.zeros(0, dtype=torch.int64), "tensor([], dtype=stepjit.int64)"),
    (lambda: torch.arange(6).reshape(2, 3), "tensor([[0, 1, 2],\n        [3, 4, 5]])"),
    (lambda: torch.arange(8.0).reshape(2, 2, 2),
     "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"),
    (lambda: torch.arange(2000),
     "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda: torch.arange(20.0),
     "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
     "        14., 15., 16., 17., 18., 19.])"),
    (lambda: torch.arange(1100.0).reshape(100, 11) / 7,
     "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.1429e+00, 1.2857e+00,\n"
     "         1.4286e+00],\n"
     "        [1.5714e+00, 1.7143e+00, 1.8571e+00,  ..., 2.7143e+00, 2.8571e+00,\n"
     "         3.0000e+00],\n"
     "        [3.1429e+00, 3.2857e+00, 3.4286e+00,  ..., 4.2857e+00, 4.4286e+00,\n"
     "         4.5714e+00],\n"
     "        ...,\n"
     "        [1.5243e+02, 1.5257e+02, 1.5271e+02,  ..., 1.5357e+02, 1.5371e+02,\n"
     "         1.5386e+02],\n"
     "        [1.5400e+02, 1.5414e+02, 1.5429e+02,  ..., 1.5514e+02, 1.5529e+02,\n"
     "         1.5543e+02],\n"
     "        [1.5557e+02, 1.5571e+02, 1.5586e+02,  ..., 1.5671e+02, 1.5686e+02,\n"
     "         1.5700e+02]])"),
    (lambda: torch.full((3,), 0.123456789, dtype=torch.float64, requires_grad=True) * 1,
     "tensor([0.1235, 0.1235, 0.1235], dtype=stepjit.float64, grad_fn=<MulBackward0>)"),
]


@pytest.mark.parametrize("make,expected", REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_repr_matches_pytorch(make, expected):
    t = make()
    assert repr(t) == expected
    assert str(t) == expected


def test_repr_suffix_wraps_like_pytorch():
    t = torch.arange(12.0, dtype=torch.float64).reshape(1, 12) * 1.5
    t.requires_grad_()
    s = repr(t * 1)
    assert s.endswith(",\n       dtype=stepjit.float64, grad_fn=<MulBackward0>)") or \
        s.endswith(", dtype=stepjit.float64,\n       grad_fn=<MulBackward0>)"), s


# -- the legacy constructor ---------------------------------------------------------------
@pytest.mark.parametrize("args, shape", [((5,), (5,)), ((2, 3), (2, 3)), ((0,), (0,)),
                                         ((torch.Size([2, 3]),), (2, 3)), ((), (0,))])
def test_tensor_of_ints_is_a_size_in_the_default_float_dtype(args, shape):
    """`torch.Tensor(in_dim, out_dim)`, as graph layers write their weights: a float tensor of
    that shape (uninitialized in PyTorch, zeros here), not a tensor holding the ints."""
    t = torch.Tensor(*args)
    assert tuple(t.shape) == shape and t.dtype == torch.float32
    assert not t.numpy().any()


def test_tensor_of_data_is_float_and_of_a_tensor_shares_it():
    for data in ([1, 2], (2, 3), np.array([1, 2])):
        t = torch.Tensor(data)
        assert t.dtype == torch.float32 and t.tolist() == [float(v) for v in data]
    src = torch.tensor([1, 2])
    alias = torch.Tensor(src)
    assert alias.dtype == torch.int64
    alias.add_(1)
    assert src.tolist() == [2, 3]
    with pytest.raises(TypeError, match="must be a sequence"):
        torch.Tensor(2.5)
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.Tensor(2).dtype == torch.float64 and torch.Tensor([1]).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


def test_factories_take_size_as_a_keyword():
    assert torch.empty(size=(2, 3)).shape == (2, 3)
    assert torch.zeros(size=[4]).shape == (4,) and torch.ones(size=(1, 2)).shape == (1, 2)
    assert torch.empty(2, 3).shape == (2, 3) and torch.zeros((4, 1)).shape == (4, 1)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        torch.zeros(2, size=(3,))
    with pytest.raises(TypeError, match="unexpected keyword argument 'sise'"):
        torch.ones(2, sise=3)


def test_legacy_constructor_against_pytorch():
    pt = pytest.importorskip("torch")
    for args in ((5,), (2, 3), ([1, 2],), ((2, 3),), ()):
        a, b = torch.Tensor(*args), pt.Tensor(*args)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype)[-7:] == str(b.dtype)[-7:]
    assert tuple(torch.Tensor(torch.Size([2, 3])).shape) == tuple(pt.Tensor(pt.Size([2, 3])).shape)


def test_to_accepts_a_memory_format_and_keeps_the_values():
    import stepjit as sj
    x = sj.arange(24.0).reshape(1, 2, 3, 4)
    y = x.to(memory_format=sj.channels_last)
    assert y.is_contiguous(memory_format=sj.channels_last)
    assert y.tolist() == x.tolist() and y.dtype is sj.float32
    assert x.to(sj.float64, memory_format=sj.contiguous_format).dtype is sj.float64
