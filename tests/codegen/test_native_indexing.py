"""Index tensors in native programs (codegen/indexing.py): an embedding `C[X]`, cross_entropy's
pick and their scatter-add backward, `index_add`, `x[idx] = v` and arange run inside the one
native function, match eager and NumPy (duplicate indices accumulate, negative ones wrap), and
an index out of range raises eager's error, naming the user's line, reading and writing
nothing out of bounds and leaving the step's tensors unchanged."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn.functional as F
from stepjit.codegen import indexing
from stepjit.runtime import tree

V, D, B, CTX, H = 7, 3, 5, 2, 4
R = np.random.default_rng(3)
PARAMS = [R.standard_normal(s).astype(np.float32) for s in ((V, D), (CTX * D, H), (H, V))]
# duplicates (0 three times, 6 twice) and a negative index, which wraps as eagerly
X = np.array([[0, 6], [3, 0], [0, -1], [2, 5], [6, 1]], np.int64)
Y = np.array([1, 6, 0, 6, 2], np.int64)


def makemore(torch):
    def step(params, X, Y):
        C, W1, W2 = params
        emb = C[X]
        h = torch.tanh(emb.view(-1, CTX * D) @ W1)
        loss = F.cross_entropy(h @ W2, Y)         # the line an out-of-range Y names
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        return loss
    return step


def _params():
    return [torch.tensor(p.copy(), requires_grad=True) for p in PARAMS]


@pytest.fixture(scope="module")
def native_step():
    mp = pytest.MonkeyPatch()
    mp.setenv("STEPJIT_NATIVE", "1")
    tree.clear_programs()
    params = _params()
    step = torch.compile(makemore(torch))
    yield params, step
    mp.undo()


def _values(ts):
    return [t.detach().numpy().copy() for t in ts]


def test_embedding_and_cross_entropy_run_native_and_match_eager(native_step):
    params, step = native_step
    eparams, eager = _params(), makemore(torch)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(3):
        np.testing.assert_allclose(step(params, x, y).item(), eager(eparams, x, y).item(),
                                   rtol=1e-6)
        for got, want in zip(_values(params), _values(eparams)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    programs = [p for _, p in step.programs.values()]
    assert programs and all(p.is_native for p in programs)
    text = programs[0].native_text
    assert "take1(" in text and "take2(" in text and "put1(" in text and "put2(" in text
    assert "arange_into(" in text


@pytest.mark.parametrize("which,bad", [("X", 7), ("X", -8), ("Y", 7), ("Y", -1)])
def test_index_out_of_range_raises_eagers_error(native_step, which, bad):
    params, step = native_step
    eparams, eager = _params(), makemore(torch)
    xs, ys = X.copy(), Y.copy()
    (xs if which == "X" else ys).flat[3] = bad
    before = _values(params) + _values(p.grad for p in params)
    with pytest.raises(Exception) as got:
        step(params, torch.tensor(xs), torch.tensor(ys))
    with pytest.raises(Exception) as want:
        eager(eparams, torch.tensor(xs), torch.tensor(ys))
    assert type(got.value) is type(want.value)
    # Eager cross_entropy checks its targets before it gathers and names itself; the compiled
    # program's check is the gather's own (reading targets while tracing would split it).
    # Either way: the same error class, the bad index and the user's line.
    assert f"{bad} is out of bounds" in str(want.value)
    assert f"index {bad} is out of bounds" in str(got.value)
    assert "test_native_indexing.py" in str(got.value)      # the user's line
    for old, now in zip(before, _values(params) + _values(p.grad for p in params)):
        np.testing.assert_array_equal(now, old)
    step(params, torch.tensor(X), torch.tensor(Y))           # and it goes on


def test_scatter_add_with_duplicates_matches_numpy(monkeypatch):
    """C.grad of sum(C[X] * G) is np.add.at(0, X, G); index_add and `z[i] = v` too."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    tree.clear_programs()
    C = torch.tensor(PARAMS[0].copy(), requires_grad=True)
    G = R.standard_normal((B, CTX, D)).astype(np.float32)
    S = R.standard_normal((6, D)).astype(np.float32)
    rows = np.array([4, 0, 4, 4, 1, 6], np.int64)
    distinct = np.array([2, 0, 5], np.int64)

    @torch.compile
    def step(C, X, G, S, rows, distinct):
        C.grad = None
        (C[X] * G).sum().backward()
        added = torch.zeros(V, D).index_add(0, rows, S)
        put = torch.zeros(V, D)
        put[distinct] = S[:3]
        return C.grad * 1.0, added, put

    args = [torch.tensor(a) for a in (X, G, S, rows, distinct)]
    for _ in range(2):
        grad, added, put = step(C, *args)
    want = np.zeros((V, D), np.float32)
    np.add.at(want, X, G)
    np.testing.assert_array_equal(grad.numpy(), want)
    want = np.zeros((V, D), np.float32)
    np.add.at(want, rows, S)
    np.testing.assert_array_equal(added.numpy(), want)
    want = np.zeros((V, D), np.float32)
    want[distinct] = S[:3]
    np.testing.assert_array_equal(put.numpy(), want)
    assert all(p.is_native for _, p in step.programs.values())


def _status():
    return np.zeros(3, np.int64)


def test_take_reports_the_index_numpy_reports():
    """The first bad index in NumPy's order: a "G" position's most negative first, then each
    index tensor in turn."""
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = np.zeros((2, 2), np.float32)
    st = _status()
    indexing.take2(out, x, np.array([[0, 9], [1, 2]]), np.array([[5, 0], [1, -2]]), st, True, True)
    assert list(st) == [1, 1, -2]          # negatives at "G" positions are checked first
    indexing.take2(out, x, np.array([[0, 9], [1, 2]]), np.array([[5, 0], [1, 2]]), st, True, True)
    assert list(st) == [1, 0, 9]           # then index tensor 0, then 1
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 0 with size 4"):
        x[np.array([[0, 9], [1, 2]]), np.array([[5, 0], [1, 2]])]
    indexing.take2(out, x, np.array([[0, -4], [1, 2]]), np.array([[2, 0], [1, -3]]), st,
                   False, False)
    assert st[0] == 0
    np.testing.assert_array_equal(out, x[np.array([[0, -4], [1, 2]]), np.array([[2, 0], [1, -3]])])


def test_put_accumulates_duplicates_in_order_and_stops_before_writing():
    base = np.arange(8, dtype=np.float32).reshape(4, 2)
    idx = np.array([3, 1, 3, -1], np.int64)
    vals = np.array([[1e8, 1], [2, 2], [-1e8, 3], [0.5, 4]], np.float32)
    out, st = np.full_like(base, 7.0), _status()
    indexing.put1(out, base, vals, idx, st, True)
    want = base.copy()
    np.add.at(want, idx, vals)
    np.testing.assert_array_equal(out, want)
    out = np.full_like(base, 7.0)
    indexing.put1(out, base, vals, np.array([3, 1, 4, 0]), st, True)
    assert list(st) == [1, 0, 4]
    np.testing.assert_array_equal(out, np.full_like(base, 7.0))     # nothing written
