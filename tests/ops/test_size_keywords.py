"""PyTorch's keyword names for the sizes and dims that methods otherwise take as `*sizes`:
`z.flip(dims=(1,))` (the masked autoregressive flows of pytorch-normalizing-flows),
`x.permute(dims=...)`, `x.reshape(shape=...)`, `x.view(size=...)`, `x.expand(size=...)`,
`x.repeat(repeats=...)`, and torch.reshape / torch.permute alike."""
import numpy as np
import pytest

import stepjit

A = np.arange(6.0).reshape(2, 3)

CASES = [
    ("flip", lambda T, x: x.flip(dims=(1,)), A[:, ::-1]),
    ("flip_list", lambda T, x: x.flip(dims=[0, 1]), A[::-1, ::-1]),
    ("permute", lambda T, x: x.permute(dims=(1, 0)), A.T),
    ("torch.permute", lambda T, x: T.permute(x, dims=[1, 0]), A.T),
    ("reshape", lambda T, x: x.reshape(shape=(3, 2)), A.reshape(3, 2)),
    ("torch.reshape", lambda T, x: T.reshape(x, shape=(-1,)), A.reshape(-1)),
    ("view", lambda T, x: x.view(size=(6,)), A.reshape(6)),
    ("expand", lambda T, x: x[:1].expand(size=(4, 3)), np.broadcast_to(A[:1], (4, 3))),
    ("repeat", lambda T, x: x.repeat(repeats=(1, 2)), np.tile(A, (1, 2))),
]


@pytest.mark.parametrize("fn,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sizes_by_keyword(fn, want):
    np.testing.assert_array_equal(fn(stepjit, stepjit.tensor(A)).numpy(), want)


def test_flip_without_dims_is_refused_as_pytorch_refuses():
    """It returned the tensor unflipped; an empty tuple is PyTorch's no-op flip."""
    x = stepjit.tensor(A)
    with pytest.raises(TypeError, match='missing 1 required positional arguments: "dims"'):
        x.flip()
    np.testing.assert_array_equal(x.flip(()).numpy(), A)


def test_sizes_given_twice_are_refused_as_python_refuses():
    with pytest.raises(TypeError, match="multiple values for argument 'shape'"):
        stepjit.tensor(A).reshape(6, shape=(6,))


def test_keyword_sizes_inside_a_compiled_step_keep_their_gradient():
    w = stepjit.tensor(A, requires_grad=True)

    @stepjit.compile(backend="interpret")
    def step():
        loss = (w.flip(dims=(1,)).permute(dims=(1, 0)) * stepjit.arange(2.0)).sum()
        loss.backward()
        return loss

    assert float(step()) == float(A[:, ::-1].T @ np.arange(2.0) @ np.ones(3))
    np.testing.assert_array_equal(w.grad.numpy(), np.array([[0.0] * 3, [1.0] * 3]))
