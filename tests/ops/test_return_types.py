"""Ops with several results return PyTorch's named result types (stepjit.return_types): the
type's name, its fields, tuple behaviour, pickling, and PyTorch's printed form (one field per
line). The names and fields are PyTorch 2.13's; where PyTorch is installed the same calls are
compared with it live."""
import pickle

import numpy as np
import pytest

import stepjit

A = np.array([[1.0, 3.0, 2.0], [4.0, 0.5, 6.0], [2.5, 2.0, 1.5]])

# (call, PyTorch's result type name, its fields)
CASES = [
    (lambda T, x: T.max(x, 1), "max", ("values", "indices")),
    (lambda T, x: x.min(dim=0, keepdim=True), "min", ("values", "indices")),
    (lambda T, x: T.sort(x, descending=True), "sort", ("values", "indices")),
    (lambda T, x: x.topk(2), "topk", ("values", "indices")),
    (lambda T, x: T.kthvalue(x, 2, 1), "kthvalue", ("values", "indices")),
    (lambda T, x: T.median(x, 0), "median", ("values", "indices")),
    (lambda T, x: T.mode(x, 1), "mode", ("values", "indices")),
    (lambda T, x: T.cummax(x, 1), "cummax", ("values", "indices")),
    (lambda T, x: T.cummin(x, 0), "cummin", ("values", "indices")),
    (lambda T, x: T.aminmax(x), "aminmax", ("min", "max")),
    (lambda T, x: T.svd(x), "svd", ("U", "S", "V")),
    (lambda T, x: T.linalg.svd(x), "linalg_svd", ("U", "S", "Vh")),
    (lambda T, x: T.qr(x), "qr", ("Q", "R")),
    (lambda T, x: T.linalg.qr(x), "linalg_qr", ("Q", "R")),
    (lambda T, x: T.linalg.eigh(x + x.T), "linalg_eigh", ("eigenvalues", "eigenvectors")),
    (lambda T, x: T.linalg.slogdet(x), "linalg_slogdet", ("sign", "logabsdet")),
    (lambda T, x: T.slogdet(x), "slogdet", ("sign", "logabsdet")),
    (lambda T, x: x.slogdet(), "slogdet", ("sign", "logabsdet")),
]
IDS = [c[1] for c in CASES]


@pytest.mark.parametrize("call,name,fields", CASES, ids=IDS)
def test_result_type_name_fields_and_tuple_behaviour(call, name, fields):
    r = call(stepjit, stepjit.tensor(A))
    assert type(r).__name__ == name and r._fields == fields
    assert type(r) is getattr(stepjit.return_types, name)
    assert isinstance(r, tuple) and len(r) == len(fields)
    for i, f in enumerate(fields):
        assert getattr(r, f) is r[i]
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r)
    for a, b in zip(r, back):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_printed_form_is_pytorchs():
    r = stepjit.max(stepjit.tensor([[1.0, 3.0], [4.0, 2.0]]), 1)
    want = ("stepjit.return_types.max(\n"
            "values=tensor([3., 4.]),\n"
            "indices=tensor([1, 0]))")
    assert repr(r) == want and str(r) == want and f"{r}" == want


@pytest.mark.parametrize("call,name,fields", CASES, ids=IDS)
def test_same_as_pytorch(call, name, fields):
    torch = pytest.importorskip("torch")
    want = call(torch, torch.tensor(A))
    got = call(stepjit, stepjit.tensor(A))
    assert type(want).__name__ == type(got).__name__
    if name in ("max", "sort", "topk", "cummax", "aminmax"):   # no sign ambiguity: text equal
        assert repr(got) == repr(want).replace("torch.", "stepjit.")


def test_compiled_step_returns_the_same_type():
    x = stepjit.tensor(A)

    def step(t):
        return stepjit.max(t * 2, 1)

    eager = step(x)
    got = stepjit.compile(step, backend="interpret")(x)
    assert type(got) is type(eager)
    np.testing.assert_array_equal(got.values.numpy(), eager.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), eager.indices.numpy())
