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
