"""`axis=` spelled for `dim=`, as PyTorch allows and NumPy-minded course code writes it
(`torch.cat(parts, axis=0)`, `torch.stack(cols, axis=1)`): every function and method that
takes a dim takes axis too, with the same result, and naming both is an error."""
import numpy as np
import pytest

import stepjit as torch

X = np.arange(12.0, dtype=np.float32).reshape(3, 4)

CALLS = {
    "cat": lambda T, x, **k: T.cat([x, x * 2], **k),
    "stack": lambda T, x, **k: T.stack([x, x + 1], **k),
    "softmax": lambda T, x, **k: T.softmax(x, **k),
    "cumsum": lambda T, x, **k: T.cumsum(x, **k),
    "unbind": lambda T, x, **k: T.stack(T.unbind(x, **k)),
    "sort_method": lambda T, x, **k: (-x).sort(**k).values,
    "topk_method": lambda T, x, **k: x.topk(2, **k).indices,
    "chunk_method": lambda T, x, **k: x.chunk(2, **k)[0],
    "gather_method": lambda T, x, **k: x.gather(index=T.zeros(3, 2, dtype=T.long), **k),
    "unsqueeze_method": lambda T, x, **k: x.unsqueeze(**k),
    "log_softmax": lambda T, x, **k: T.log_softmax(x, **k),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_axis_gives_what_dim_gives(name):
    x = torch.from_numpy(X.copy())
    by_dim = CALLS[name](torch, x, dim=1)
    by_axis = CALLS[name](torch, x, axis=1)
    np.testing.assert_array_equal(by_axis.numpy(), by_dim.numpy())


def test_axis_and_dim_together_are_refused():
    x = torch.ones(2, 2)
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        torch.cat([x, x], dim=0, axis=1)


def test_a_compiled_step_with_axis_matches_eager():
    w = torch.ones(4, 2, requires_grad=True)

    def step(x):
        h = torch.cat([x @ w, (x @ w).tanh()], axis=1)
        loss = torch.stack([h.sum(0), h.pow(2).sum(0)], axis=0).sum()
        loss.backward()
        return loss

    x = torch.from_numpy(X / 10)
    eager = step(x).item()
    g = w.grad.clone()
    w.grad = None
    assert torch.compile(step, backend="interpret")(x).item() == pytest.approx(eager, rel=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), g.numpy(), rtol=1e-6)
