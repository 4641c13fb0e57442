"""PyTorch as the oracle: the registry's sample table replayed on stepjit and on torch.

Skipped cleanly when torch is not installed.
"""
import importlib.util
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import stepjit  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "_registry_table", pathlib.Path(__file__).parents[1] / "ir" / "test_registry.py")
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)

CASES = ([("prim", n, i) for n, i in table.PRIM_CASES if table.SAMPLES[n][i].api]
         + [("comp", n, i) for n, i in table.COMP_CASES])


def _sample(case):
    kind, name, i = case
    return (table.SAMPLES if kind == "prim" else table.COMPOSITES)[name][i]


def _id(case):
    kind, name, i = case
    return f"{name}-{i}"


def _run(lib, sample, requires_grad):
    ts = []
    for j, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            t = lib.tensor(a.copy())
            if j in requires_grad:
                t.requires_grad_()
            ts.append(t)
        else:
            ts.append(a)
    return sample.api(lib, *ts), ts


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_forward_and_grads_match_torch(case):
    sample = _sample(case)
    grad = sample.grad
    ours, our_ts = _run(stepjit, sample, grad)
    theirs, their_ts = _run(torch, sample, grad)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    tol = 1e-5 if ours.dtype is stepjit.float32 else 1e-10
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=tol, atol=tol)
    if not grad or not theirs.requires_grad:
        return
    cot = np.random.default_rng(1).standard_normal(tuple(ours.shape))
    ours.backward(stepjit.tensor(cot, dtype=ours.dtype))
    theirs.backward(torch.tensor(cot, dtype=theirs.dtype))
    for j in grad:
        assert our_ts[j].grad.dtype.name == str(their_ts[j].grad.dtype).replace("torch.", "")
        np.testing.assert_allclose(our_ts[j].grad.numpy(), their_ts[j].grad.numpy(),
                                   rtol=tol, atol=tol, err_msg=f"grad of input {j}")


REPR_DATA = [
    ([[0.1337, 0.0], [-0.2115, 0.0]], None),
    ([1.0, 2.0, 3.0], None),
    ([1e-5, 1.0], None),
    ([1.0, 1e4], None),
    ([123456789.0, 1.0], None),
    ([1.5, float("nan"), float("-inf")], None),
    ([-1, 20, -300], None),
    ([True, False, True], None),
    ([[1.25, 2.0]], "float64"),
    ([1, 2], "int32"),
    (np.arange(30.0) / 3, None),
    (np.arange(3000.0).reshape(30, 100) / 7, None),
    (np.arange(2000).reshape(2, 10, 100), None),
    (np.arange(24.0).reshape(2, 3, 4) - 11.5, None),
    (-3.25, None),
    (np.zeros((0, 3)), "float32"),
]


@pytest.mark.parametrize("data,dtype", REPR_DATA, ids=[str(i) for i in range(len(REPR_DATA))])
@pytest.mark.parametrize("grad", [False, True])
def test_repr_matches_torch(data, dtype, grad):
    ours = stepjit.tensor(data, dtype=getattr(stepjit, dtype) if dtype else None)
    theirs = torch.tensor(np.asarray(data) if dtype or isinstance(data, np.ndarray) else data,
                          dtype=getattr(torch, dtype) if dtype else None)
    if isinstance(data, np.ndarray) and not dtype and data.dtype == np.float64:
        ours, theirs = ours.float(), theirs.float()
    if grad:
        if not theirs.is_floating_point():
            return
        ours.requires_grad_()
        theirs.requires_grad_()
        ours, theirs = ours * 1, theirs * 1
    assert repr(ours).replace("stepjit.", "") == repr(theirs).replace("torch.", "")
