"""A bad index raises what PyTorch raises: IndexError (ours is also a RuntimeError), in
PyTorch's words, eagerly and from a compiled step; narrow and select check their ranges.

Notebooks catch `IndexError` around indexing cells (a batch of 32 rows indexed with a target
vector of another length), and Python's own protocols rely on it, so a RuntimeError there is a
different program."""
import numpy as np
import pytest

import stepjit as T
import stepjit.nn.functional as F
from stepjit.errors import StepjitError

X = T.tensor(np.arange(15.0).reshape(5, 3))

# (case, call on a framework module `m` and a 5x3 tensor `x`, words in our message).
# PyTorch raises IndexError for each (test_pytorch_raises_index_error_too checks it).
INDEX_ERRORS = [
    ("tensor index past the end", lambda m, x: x[m.tensor([7])], ["index 7", "dimension 0", "size 5"]),
    ("int index past the end", lambda m, x: x[10], ["10", "dimension 0", "size 5"]),
    ("int index past the end, dim 1", lambda m, x: x[:, 5], ["5", "dimension 1", "size 3"]),
    ("negative int index past the start", lambda m, x: x[-6], ["-6", "dimension 0"]),
    ("index tensors that do not broadcast", lambda m, x: x[m.arange(2), m.arange(3)],
     ["shape mismatch", "could not be broadcast", "(2,)", "(3,)"]),
    ("too many indices", lambda m, x: x[0, 0, 0], ["too many indices", "dimension 2"]),
    ("float index tensor", lambda m, x: x[m.tensor([1.0])], ["long or bool"]),
    ("mask of the wrong length", lambda m, x: x[m.tensor([True, False])], ["boolean index"]),
    ("write past the end", lambda m, x: x.__setitem__(m.tensor([9]), 1.0), ["index 9", "size 5"]),
    ("int write past the end", lambda m, x: x.__setitem__(9, 1.0), ["9", "size 5"]),
    ("index_select past the end", lambda m, x: x.index_select(0, m.tensor([9])), ["9", "size 5"]),
    ("embedding row past the end",
     lambda m, x: m.nn.functional.embedding(m.tensor([9]), x), ["9", "size 5"]),
    ("cross_entropy target past the classes",
     lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 1, 2, 3, 4])), ["3"]),
    ("reduction dim out of range", lambda m, x: x.sum(3), ["dim 3", "2 dimensions"]),
    ("cumsum dim out of range", lambda m, x: x.cumsum(2), ["dim 2"]),
    ("select index past the end", lambda m, x: m.select(x, 0, -6),
     ["select", "-6", "[5, 3]", "dimension 0"]),
    ("narrow start past the end", lambda m, x: x.narrow(0, 7, 0), ["narrow", "[-5, 5]", "7"]),
]


@pytest.mark.parametrize("case,fn,words", INDEX_ERRORS, ids=[c[0] for c in INDEX_ERRORS])
def test_bad_index_is_an_index_error(case, fn, words):
    x = X.clone()
    with pytest.raises(IndexError) as info:
        fn(T, x)
    assert isinstance(info.value, StepjitError)     # and still a RuntimeError, as before
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{case}: {w!r} not in {msg!r}"
    assert "axis" not in msg and "arrays" not in msg, msg   # PyTorch's words, not NumPy's
    assert "test_index_errors.py" in msg
    np.testing.assert_array_equal(x.numpy(), X.numpy())


@pytest.mark.parametrize("case,fn,words", INDEX_ERRORS, ids=[c[0] for c in INDEX_ERRORS])
def test_pytorch_raises_index_error_too(case, fn, words):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        fn(torch, torch.arange(15.0).reshape(5, 3))


def test_notebook_cell_catching_index_error_goes_on():
    """A batch of 32 probability rows indexed by a target vector of another length: the cell's
    `except IndexError` handles it, as it does under PyTorch."""
    prob = T.softmax(T.randn(32, 27), 1)
    targets = T.randint(0, 27, (40,))
    try:
        loss = -prob[T.arange(32), targets].log().mean()
    except IndexError as e:
        loss = None
        assert "[<tensor>, <tensor>]" in str(e) and "(32,) (40,)" in str(e)
    assert loss is None


def test_compiled_step_raises_the_same_index_error():
    W = T.randn(5, 3, requires_grad=True)

    @T.compile(backend="cpu")
    def step(rows, cols):
        loss = W[rows, cols].sum()
        loss.backward()
        return loss

    step(T.tensor([1, 2]), T.tensor([0, 1]))
    step(T.tensor([1, 2]), T.tensor([0, 1]))          # the compiled program runs
    before = W.detach().clone()
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 0 with size 5"):
        step(T.tensor([1, 9]), T.tensor([0, 1]))
    with pytest.raises(IndexError, match="could not be broadcast"):
        step(T.tensor([1, 2, 3]), T.tensor([0, 1]))   # a new shape: traced, rejected
    assert T.equal(W.detach(), before)


@pytest.mark.parametrize("dim,start,length", [(0, -2, 2), (0, 5, 0), (1, 0, 3), (1, -3, 1),
                                              (0, T.tensor(1), 2)])
def test_narrow_matches_slicing(dim, start, length):
    s = int(start) % 5 if dim == 0 else int(start) % 3
    want = X[s:s + length] if dim == 0 else X[:, s:s + length]
    assert T.equal(X.narrow(dim, start, length), want)


def test_narrow_past_the_end_is_an_error_not_a_shorter_tensor():
    with pytest.raises(RuntimeError, match=r"start \(4\) \+ length \(3\) exceeds dimension size \(5\)"):
        X.narrow(0, 4, 3)
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        X.narrow(0, 1, -1)


def test_select_is_a_view_without_the_dimension():
    x = X.clone()
    col = x.select(1, -1)
    assert col.shape == (5,) and T.equal(col, X[:, 2])
    col.mul_(2.0)                                       # a view: writes reach x
    assert T.equal(x[:, 2], X[:, 2] * 2)
    assert T.equal(T.select(X, 0, 1), X[1])
