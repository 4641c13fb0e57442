"""Bad input to the math, statistics, product, search and linear algebra functions: an
exception naming the op and the shapes (and the user's line), the inputs left unchanged."""
import numpy as np
import pytest

import stepjit as T
from stepjit.errors import StepjitError
from tests.ops.step_checks import raises_naming

X = T.tensor(np.arange(12.0).reshape(3, 4))
SQ = T.tensor(np.eye(3) * 2)

BAD = [
    ("atan2 shapes", lambda: T.atan2(X, T.ones(3, dtype=T.float64)), ["atan2", "[3, 4]", "[3]"]),
    ("cdist columns", lambda: T.cdist(X, T.ones(2, 3, dtype=T.float64)),
     ["cdist", "[3, 4]", "[2, 3]"]),
    ("cdist p", lambda: T.cdist(X, X, p=-1.0), ["cdist", "non-negative"]),
    ("median empty", lambda: T.median(T.ones(0)), ["median", "empty"]),
    ("cummax dim", lambda: T.cummax(X, 2), ["cummax", "dim 2"]),
    ("histc int", lambda: T.histc(T.tensor([1, 2])), ["histc", "int64"]),
    ("histc range", lambda: T.histc(X, 4, min=3, max=1), ["histc", "min=3", "max=1"]),
    ("histogram int", lambda: T.histogram(T.tensor([1, 2])), ["histogram", "int64"]),
    ("histogram range", lambda: T.histogram(X, 4, range=(3.0, 1.0)), ["histogram", "min 3.0"]),
    ("histogram weight", lambda: T.histogram(X, 4, weight=T.ones(2)), ["histogram", "weight"]),
    ("tensordot dims", lambda: T.tensordot(X, X, 1), ["tensordot", "[3, 4]"]),
    ("tensordot count", lambda: T.tensordot(X, X, 3), ["tensordot", "between 0 and 2"]),
    ("cross size", lambda: T.cross(X, X, dim=1), ["cross", "[3, 4]", "size 3"]),
    ("cross no 3", lambda: T.cross(T.ones(2, 2), T.ones(2, 2)), ["cross", "[2, 2]"]),
    ("rot90 dims", lambda: T.rot90(X, 1, [0, 0]), ["rot90", "different"]),
    ("rot90 rank", lambda: T.rot90(T.ones(3)), ["rot90", "[3]"]),
    ("tensor_split sections", lambda: T.tensor_split(X, 0), ["tensor_split", "larger than 0"]),
    ("hstack empty", lambda: T.hstack([]), ["hstack", "non-empty"]),
    ("searchsorted batch", lambda: T.searchsorted(X, T.ones(2, 2, dtype=T.float64)),
     ["searchsorted", "[3, 4]", "[2, 2]"]),
    ("bucketize boundaries", lambda: T.bucketize(X, X), ["bucketize", "1-D", "[3, 4]"]),
    ("inv square", lambda: T.linalg.inv(X), ["inv", "square", "[3, 4]"]),
    ("inv int", lambda: T.inverse(T.ones(2, 2, dtype=T.int64)), ["inv", "int64"]),
    ("inv singular", lambda: T.linalg.inv(T.zeros(2, 2)), ["inv", "singular", "[2, 2]"]),
    ("det square", lambda: T.det(X), ["det", "square", "[3, 4]"]),
    ("solve rows", lambda: T.linalg.solve(SQ, T.ones(2, dtype=T.float64)),
     ["solve", "[3, 3]", "[2]"]),
    ("matrix_norm rank", lambda: T.linalg.matrix_norm(T.ones(3)), ["matrix_norm", "[3]"]),
]


@pytest.mark.parametrize("name,fn,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_op_and_shapes(name, fn, words):
    raises_naming(name, fn, words, X, errors=(StepjitError, RuntimeError, ValueError))


def test_errors_name_the_users_line():
    with pytest.raises(StepjitError) as info:
        T.cdist(X, T.ones(2, 3, dtype=T.float64))
    assert "test_math_errors.py" in str(info.value)


def test_missing_decompositions_say_so():
    with pytest.raises(NotImplementedError, match="linalg.eig"):
        T.linalg.eig(SQ)
    with pytest.raises(ValueError, match="Order 3 not supported"):
        T.linalg.matrix_norm(SQ, ord=3)