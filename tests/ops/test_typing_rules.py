"""result_type, promote_types, can_cast, is_nonzero: PyTorch's answers (recorded below from
PyTorch 2.13, and compared with a live PyTorch where installed)."""
import pytest

import stepjit as T

DT = ("bool", "int32", "int64", "float32", "float64")
# torch.can_cast(row, column) for the dtypes above, as PyTorch 2.13 answers
CAN_CAST = {
    "bool": [True, True, True, True, True],
    "int32": [False, True, True, True, True],
    "int64": [False, True, True, True, True],
    "float32": [False, False, False, True, True],
    "float64": [False, False, False, True, True],
}


def test_can_cast_table():
    for a, row in CAN_CAST.items():
        assert [T.can_cast(getattr(T, a), getattr(T, b)) for b in DT] == row, a


def test_promotion():
    assert T.result_type(T.tensor([1]), 1.0) is T.float32
    assert T.result_type(T.tensor([1.0], dtype=T.float64), T.tensor(1.0)) is T.float64
    assert T.result_type(T.tensor(1.0), T.tensor([1], dtype=T.int32)) is T.float32
    assert T.result_type(2, True) is T.int64
    assert T.promote_types(T.int32, T.float32) is T.float32
    assert T.promote_types(T.int64, T.int32) is T.int64
    assert T.promote_types(T.bool, T.int32) is T.int32


def test_is_nonzero():
    assert T.is_nonzero(T.tensor([0.5])) and not T.is_nonzero(T.tensor(0))
    with pytest.raises(RuntimeError, match="more than one value"):
        T.is_nonzero(T.ones(2))
    with pytest.raises(RuntimeError, match="no values"):
        T.is_nonzero(T.ones(0))


def test_live_pytorch_agrees():
    torch = pytest.importorskip("torch")
    for a in DT:
        for b in DT:
            assert T.can_cast(getattr(T, a), getattr(T, b)) == torch.can_cast(
                getattr(torch, a), getattr(torch, b))
            assert T.promote_types(getattr(T, a), getattr(T, b)).name == str(
                torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]
