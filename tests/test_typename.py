"""typename: PyTorch's names for tensors (by dtype) and qualified names for other objects."""
import pytest

import stepjit


@pytest.mark.parametrize("make,want", [
    (lambda: stepjit.ones(2), "stepjit.FloatTensor"),
    (lambda: stepjit.ones(2, dtype=stepjit.float64), "stepjit.DoubleTensor"),
    (lambda: stepjit.tensor([1, 2]), "stepjit.LongTensor"),
    (lambda: stepjit.tensor([True]), "stepjit.BoolTensor"),
    (lambda: stepjit.nn.Linear(1, 1), "stepjit.nn.modules.linear.Linear"),
    (lambda: 3, "int"),
    (lambda: [1], "list"),
])
def test_typename(make, want):
    assert stepjit.typename(make()) == want


def test_live_pytorch_names_agree_but_for_the_package():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64", "bool"):
        a = stepjit.typename(stepjit.zeros(1, dtype=getattr(stepjit, dtype)))
        b = torch.typename(torch.zeros(1, dtype=getattr(torch, dtype)))
        assert a.split(".", 1)[1] == b.split(".", 1)[1]


def test_types_print_as_pytorchs_but_for_the_package():
    t = stepjit.ones(2, requires_grad=True)
    assert str(type(t)) == "<class 'stepjit.Tensor'>" and type(t) is stepjit.Tensor
    assert isinstance(t, stepjit.Tensor) and isinstance(t, stepjit.FloatTensor)
    assert str(type(t.shape)) == "<class 'stepjit.Size'>"
    assert str(type(t.device)) == "<class 'stepjit.device'>"
    assert str(type(t.dtype)) == "<class 'stepjit.dtype'>" and type(t.dtype) is stepjit.dtype
    assert str(type(stepjit.finfo(stepjit.float32))) == "<class 'stepjit.finfo'>"
    assert str(type((t * 2).grad_fn)) == "<class 'MulBackward0'>"
    assert str(type(stepjit.nn.Parameter(t))) == "<class 'stepjit.nn.parameter.Parameter'>"


@pytest.mark.parametrize("obj,want", [
    (lambda: stepjit.nn.functional.relu, "stepjit.nn.functional.relu"),
    (lambda: stepjit.nn.functional, "stepjit.nn.functional"),
    (lambda: stepjit.Tensor, "stepjit.Tensor"),
    (lambda: stepjit.float32, "stepjit.dtype"),
    (lambda: stepjit.nn.Linear, "stepjit.nn.modules.linear.Linear"),
])
def test_typename_follows_pytorchs_rule(obj, want):
    assert stepjit.typename(obj()) == want


def test_live_pytorch_types_agree_but_for_the_package():
    torch = pytest.importorskip("torch")
    for T in (torch, stepjit):
        t = T.ones(2, requires_grad=True)
        names = [str(type(x)).replace(T.__name__ + ".", "") for x in
                 (t, t.shape, t.device, t.dtype, (t * 2).grad_fn, T.finfo(T.float32))]
        names += [T.typename(x).replace(T.__name__ + ".", "") for x in
                  (T.nn.functional.relu, T.nn.functional, T.Tensor, T.float32, T.nn.Linear, 3)]
        if T is torch:
            want = names
    assert names == want
