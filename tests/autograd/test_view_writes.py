"""In-place writes through views of intermediates (PyTorch's CopySlices), eager and compiled:
against PyTorch's recorded values and gradients (float64 to 1e-12, float32 within its drift),
finite differences, and compiled (interpret bit for bit, cpu) against eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.autograd.view_cases import CASES
from tests.fixtures import checks, oracle

TABLE = oracle.load(Path(__file__).parents[1] / "fixtures" / "views" / "torch_views.npz")
IDS = [c.name for c in CASES]


def _as(case, dtype, tol):
    inputs = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in case.inputs]
    return oracle.Case(case.name, case.fn, *inputs, grad=case.grad, tol=tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float64_matches_recorded_pytorch(case):
    checks.against_recording(_as(case, np.float64, 1e-12), TABLE)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_matches_recorded_pytorch_within_drift(case):
    checks.against_recording(_as(case, np.float32, 2e-5), TABLE)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_match_finite_differences(case):
    checks.against_finite_differences(case)


def _compiled_step(case):
    """The case as a training step: outputs, backward of the recorded cotangents."""
    def step(*ts):
        outs = oracle.outputs(case.fn(stepjit, *ts))
        loss = None
        for i, o in enumerate(outs):
            cot = stepjit.from_numpy(oracle.cotangent(case.name, i, tuple(o.shape)).astype(
                o.dtype.np))
            term = (o * cot).sum()
            loss = term if loss is None else loss + term
        loss.backward()
        return tuple(o.detach() for o in outs)
    return step


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_compiled_matches_eager_and_pytorch(case, backend):
    step = _compiled_step(case)
    compiled = stepjit.compile(step, backend=backend)
    results = []
    for run in (step, compiled, compiled):
        ts = oracle.tensors(stepjit, case)
        outs = run(*ts)
        results.append([o.numpy() for o in outs] + [ts[i].grad.numpy() for i in case.grad])
    eager, first, second = results
    for want, got1, got2 in zip(eager, first, second):
        if backend == "interpret":
            np.testing.assert_array_equal(got1, want)
        np.testing.assert_allclose(got1, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got2, got1)
    recorded = TABLE[case.name]
    for i, i_grad in enumerate(case.grad):
        np.testing.assert_allclose(first[len(first) - len(case.grad) + i],
                                   recorded[f"grad{i_grad}"], rtol=1e-12, atol=1e-12)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0, stats


def test_every_recorded_case_is_in_the_table():
    assert set(TABLE) == {c.name for c in CASES}


def test_a_view_of_a_leaf_that_requires_grad_cannot_be_written():
    w = stepjit.randn(3, 4, requires_grad=True)
    before = w.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy(), before)
    with stepjit.no_grad():   # as PyTorch: allowed without grad, and written through
        w[0].mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy()[0], before[0] * 2.0)


def test_a_write_through_an_expanded_view_is_refused():
    h = stepjit.randn(1, 4, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="expand"):
        h.expand(3, 4).mul_(2.0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_writes_through_views_without_grad_reach_the_base_compiled(backend):
    # no autograd involved: eagerly the write lands in shared memory; a trace must write the
    # root the same way, and a view made before is read again from the written root
    def step(x):
        with stepjit.no_grad():
            h = x * 1.0
            v = h[1:3]
            h.t()[0] *= 2.0
            v.add_(1.0)
            return h + v.sum(), v * 1.0
    x = stepjit.from_numpy(np.arange(12.0).reshape(4, 3))
    want = step(x)
    fn = stepjit.compile(step, backend=backend)
    for _ in range(2):
        got = fn(x)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_write_through_a_reshape_that_copies_runs_eagerly_compiled(backend):
    # a trace has no memory layouts: writing through reshape of a transposed tensor (a copy
    # eagerly) is found at trace time and the step runs eagerly, with a warning naming the line
    def step(x, w):
        h = x @ w
        r = h.t().reshape(-1)
        r[0:3].mul_(0.0)
        loss = (h * h).sum() + r.sum()
        loss.backward()
        return h.detach()
    x = stepjit.randn(4, 3, dtype=stepjit.float64)
    w = np.random.default_rng(1).standard_normal((3, 5))
    we, wc = stepjit.tensor(w, requires_grad=True), stepjit.tensor(w, requires_grad=True)
    fn = stepjit.compile(step, backend=backend)
    warned = r"runs eagerly: mul_ at test_view_writes.py:\d+: `r\[0:3\]"
    with pytest.warns(UserWarning, match=warned):
        got = fn(x, wc)
    want = step(x, we)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(wc.grad.numpy(), we.grad.numpy())
    fn(x, wc)
    assert fn.stats()["fallbacks"] == 2


def test_a_reshape_that_copies_is_not_written_through():
    # reshape of a transposed tensor is a copy, eagerly as in PyTorch: writing it leaves h alone
    def step(x, w):
        h = x @ w
        r = h.t().reshape(-1)
        r[0:3].mul_(0.0)
        loss = (h * h).sum() + r.sum()
        loss.backward()
        return h.detach()
    x = np.random.default_rng(0).standard_normal((4, 3))
    w = np.random.default_rng(1).standard_normal((3, 5))
    we = stepjit.tensor(w, requires_grad=True)
    want = step(stepjit.tensor(x), we)
    torch = pytest.importorskip("torch")
    wt = torch.tensor(w, requires_grad=True)
    h = torch.tensor(x) @ wt
    r = h.t().reshape(-1)
    r[0:3].mul_(0.0)
    ((h * h).sum() + r.sum()).backward()
    np.testing.assert_allclose(want.numpy(), h.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
