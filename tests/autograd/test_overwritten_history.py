"""An in-place write of a value without autograd history (`h.copy_(c)`, `h.fill_(v)`,
`h.zero_()`, `h.eq_(y)`, `h.uniform_()`) into a tensor with history: the old history gets no
gradient from then on (PyTorch's CopyBackwards gives it zeros); the tensor still requires grad.
The reference is the derivative itself (what was overwritten cannot change the result) and,
where installed, PyTorch."""
import numpy as np
import pytest

import stepjit

WRITES = {
    "copy_": lambda T, h: h.copy_(T.tensor([5.0, -1.0, 2.0])),
    "fill_": lambda T, h: h.fill_(1.5),
    "zero_": lambda T, h: h.zero_(),
    "eq_": lambda T, h: h.eq_(T.tensor([2.0, 0.0, 6.0])),
    "gt_": lambda T, h: h.gt_(1.0),
    "masked_fill_all": lambda T, h: h.masked_fill_(T.tensor([True, True, True]), 3.0),
}


def _grad(T, name):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    WRITES[name](T, h)
    assert h.requires_grad
    (h * h + x).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", list(WRITES))
def test_overwritten_history_gets_no_gradient(name):
    # only `+ x` reaches x: d/dx sum(const * const + x) = 1
    np.testing.assert_array_equal(_grad(stepjit, name), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("name", list(WRITES))
def test_same_as_pytorch(name):
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(_grad(stepjit, name), _grad(torch, name))


def test_partial_overwrite_keeps_the_rest_of_the_history():
    x = stepjit.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    h[1:].zero_()          # a view: only the written part loses its gradient
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0])


def test_compiled_matches_eager():
    def step(x):
        h = x * 2
        h.copy_(stepjit.tensor([5.0, -1.0, 2.0]))
        g = x * 3
        g.fill_(0.5)
        loss = (h * h + g * x + x).sum()
        loss.backward()
        return loss.detach()

    x = stepjit.tensor([1.0, 2.0, 3.0], requires_grad=True)
    want = step(x)
    want_grad = x.grad.clone()
    np.testing.assert_array_equal(want_grad.numpy(), [1.5, 1.5, 1.5])
    compiled = stepjit.compile(step)
    for _ in range(2):
        x.grad = None
        np.testing.assert_array_equal(compiled(x).numpy(), want.numpy())
        np.testing.assert_array_equal(x.grad.numpy(), want_grad.numpy())
    assert compiled.stats()["fallbacks"] == 0
