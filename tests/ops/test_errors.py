"""Bad input to the tensor functions: an exception naming the op and the shapes, the user's
line, and the inputs left as they were."""
import numpy as np
import pytest

import stepjit as T
from stepjit.errors import StepjitError
from tests.ops.step_checks import raises_naming

X = T.tensor(np.arange(12.0).reshape(3, 4))
I = T.tensor([[0, 1], [2, 3], [1, 0]])

BAD = [
    ("topk", lambda: T.topk(X, 5), ["topk", "5", "[3, 4]"]),
    ("sort dim", lambda: X.sort(2), ["sort", "dim 2"]),
    ("cumsum dim", lambda: T.cumsum(X, 3), ["cumsum", "dim 3"]),
    ("repeat", lambda: X.repeat(2), ["repeat", "[3, 4]"]),
    ("roll", lambda: X.roll((1, 2), 0), ["roll", "shifts"]),
    ("tril 1-d", lambda: T.tril(T.ones(3)), ["tril", "[3]"]),
    ("diagonal same", lambda: X.diagonal(0, 1, 1), ["diagonal", "identical"]),
    ("trace 3-d", lambda: T.trace(T.ones(2, 2, 2)), ["trace", "3"]),
    ("scatter index dtype", lambda: X.scatter(1, I.float(), 0.0), ["scatter", "int64", "float32"]),
    ("scatter index ndim", lambda: X.scatter(1, I[0], 0.0), ["scatter", "[2]", "[3, 4]"]),
    ("scatter out of range", lambda: X.scatter_add(1, I + 3, T.ones(3, 2, dtype=T.float64)),
     ["scatter_add", "out of bounds", "size 4"]),
    ("index_add shape", lambda: X.index_add(0, T.tensor([0, 1]), T.ones(3, 4, dtype=T.float64)),
     ["index_add", "[3, 4]", "[2, 4]"]),
    ("einsum letters", lambda: T.einsum("ij,jk->ik", X, T.ones(3)), ["einsum", "'jk'", "[3]"]),
    ("einsum sizes", lambda: T.einsum("ij,jk->ik", X, T.ones(3, 2, dtype=T.float64)),
     ["einsum", "'j'", "[3, 4]", "[3, 2]"]),
    ("einsum operands", lambda: T.einsum("ij,jk->ik", X), ["einsum", "2 operands"]),
    ("mv sizes", lambda: T.mv(X, T.ones(3, dtype=T.float64)), ["mv", "(3x4)", "vec (3)"]),
    ("mv 2-d vec", lambda: X.mv(T.ones(4, 1, dtype=T.float64)), ["mv", "got 1, 2, 2"]),
    ("addmm", lambda: T.addmm(T.ones(2), T.ones(2, 3, 1), T.ones(3)), ["addmm", "[2, 3, 1]"]),
    ("bincount float", lambda: T.bincount(X.reshape(-1)), ["bincount", "float64"]),
    ("bincount negative", lambda: T.bincount(T.tensor([1, -1])), ["bincount", "non-negative"]),
    ("movedim", lambda: X.movedim((0, 1), 0), ["movedim"]),
    ("repeat_interleave", lambda: X.repeat_interleave(T.tensor([1, 2]), dim=0),
     ["repeat_interleave", "3"]),
]


@pytest.mark.parametrize("name,fn,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_op_and_shapes(name, fn, words):
    raises_naming(name, fn, words, X)


def test_errors_name_the_users_line():
    with pytest.raises(StepjitError) as info:
        T.topk(X, 9)
    assert "test_errors.py" in str(info.value)


def test_inplace_scatter_out_of_range_leaves_the_tensor_unchanged():
    y = X.clone()
    with pytest.raises(StepjitError):
        y.index_add_(0, T.tensor([0, 3]), T.ones(2, 4, dtype=T.float64))
    np.testing.assert_array_equal(y.numpy(), X.numpy())
