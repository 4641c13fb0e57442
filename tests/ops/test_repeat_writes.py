"""repeat, tile and repeat_interleave make tensors of their own, which programs write into
(a style image repeated over the batch, then normalized in place); writing into an expand()ed
view, whose elements share memory, raises PyTorch's error instead of a NumPy one."""
import numpy as np
import pytest

import stepjit


def _image():
    return stepjit.tensor(np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3))


@pytest.mark.parametrize("make,want", [
    (lambda t: t.repeat(4, 1, 1, 1), lambda a: np.tile(a, (4, 1, 1, 1))),
    (lambda t: t.repeat(1, 2, 1), lambda a: np.tile(a, (1, 2, 1))),
    (lambda t: t.tile((3, 1, 1)), lambda a: np.tile(a, (3, 1, 1))),
    (lambda t: t.repeat_interleave(2, dim=0), lambda a: np.repeat(a, 2, axis=0)),
    (lambda t: t.repeat_interleave(3), lambda a: np.repeat(a.reshape(-1), 3)),
])
def test_the_result_takes_in_place_writes_and_leaves_the_input_alone(make, want):
    t = _image()
    out = make(t)
    out.div_(255.0)
    out[0] = -1.0
    expected = want(np.arange(18, dtype=np.float32).reshape(2, 3, 3)) / np.float32(255.0)
    expected[0] = -1.0
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(t.numpy(), np.arange(18, dtype=np.float32).reshape(2, 3, 3))


def test_gradient_flows_through_an_in_place_write_into_repeat():
    x = stepjit.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.repeat(1, 3)
    y.mul_(stepjit.tensor([1.0, 2.0, 3.0]))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 1), 6.0, np.float32))


@pytest.mark.parametrize("write", [
    lambda e: e.add_(1), lambda e: e.mul_(2.0), lambda e: e.zero_(), lambda e: e.fill_(3),
    lambda e: e.copy_(stepjit.zeros(3, 4)), lambda e: e.__setitem__(0, 5.0),
    lambda e: e.__setitem__(e > 0, 2.0), lambda e: e.clamp_(0, 0.5), lambda e: e.exp_(),
    lambda e: e.uniform_(), lambda e: e.masked_fill_(e > 0, 1.0),
])
def test_writing_into_an_expanded_view_raises_pytorchs_error(write):
    base = stepjit.ones(1, 4)
    e = base.expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor "
                                           "refers to a single memory location") as info:
        write(e)
    assert "test_repeat_writes.py" in str(info.value)
    np.testing.assert_array_equal(base.numpy(), np.ones((1, 4), np.float32))


def test_writing_into_a_read_only_numpy_array_says_so():
    a = np.zeros(3, np.float32)
    a.setflags(write=False)
    t = stepjit.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only.*clone"):
        t.add_(1)
    np.testing.assert_array_equal(a, np.zeros(3, np.float32))


def test_compiled_step_writing_into_repeat_equals_eager():
    w = stepjit.tensor([[0.5, -1.0, 2.0]], requires_grad=True)

    def step(x):
        batch = x.repeat(2, 1)
        batch.div_(4.0)
        loss = (batch * w).sum()
        loss.backward()
        return loss

    x = stepjit.tensor([[1.0, 2.0, 3.0]])
    eager = float(step(x))
    g = w.grad.numpy().copy()
    w.grad = None
    compiled = stepjit.compile(step)
    assert float(compiled(x)) == eager
    np.testing.assert_array_equal(w.grad.numpy(), g)
    np.testing.assert_array_equal(g, np.array([[0.5, 1.0, 1.5]], np.float32))
