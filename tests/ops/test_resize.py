"""Tensor.resize_ / resize_as_: PyTorch's shape change in place (the first elements kept, in
row-major order), compiled as eagerly."""
import numpy as np
import pytest

import stepjit


def test_resize_keeps_the_first_elements_and_the_object():
    x = stepjit.arange(6.0).reshape(2, 3)
    assert x.resize_(3, 2) is x
    np.testing.assert_array_equal(x.numpy(), [[0, 1], [2, 3], [4, 5]])
    x.resize_((4,))
    np.testing.assert_array_equal(x.numpy(), [0, 1, 2, 3])
    x.resize_as_(stepjit.zeros(2, 3, dtype=stepjit.int64))
    assert tuple(x.shape) == (2, 3) and x.dtype is stepjit.float32
    np.testing.assert_array_equal(x.numpy().ravel()[:4], [0, 1, 2, 3])   # then zeros here


def test_resize_refuses_what_pytorch_refuses():
    w = stepjit.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        w.resize_(2)
    with pytest.raises(stepjit.ShapeError, match="negative dimension"):
        stepjit.zeros(3).resize_(-1, 2)
    assert tuple(w.shape) == (3,)


def test_resize_inside_a_compiled_step():
    def run(wrap):
        buf = stepjit.zeros(4)

        def step(x):
            buf.resize_(x.shape[0])
            buf.copy_(x * 2)
            return buf.sum()
        fn = wrap(step)
        return [fn(stepjit.arange(float(n))).item() for n in (3, 3, 5)], buf.numpy().copy()
    eager = run(lambda f: f)
    compiled = run(lambda f: stepjit.compile(f, backend="interpret"))
    assert compiled[0] == eager[0]
    np.testing.assert_array_equal(compiled[1], eager[1])
