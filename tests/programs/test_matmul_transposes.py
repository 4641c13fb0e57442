"""A matmul reads a 2-D transpose's source as `x.T` (programs/cpu.py), so the transposes of a
backward pass cost no step of their own; a transpose something else reads is still made."""
import numpy as np

import stepjit as torch
from stepjit.programs.cpu import OpStep

RNG = np.random.default_rng(3)
X0, W0 = RNG.standard_normal((4, 5)).astype(np.float32), RNG.standard_normal((5, 3)).astype(np.float32)


def _step_names(fn):
    return [s.node.prim.name for _, prog in fn.programs.values() for s in prog.steps
            if isinstance(s, OpStep)]


def _run(step, compiled):
    x, w = torch.tensor(X0.copy()), torch.tensor(W0.copy(), requires_grad=True)
    fn = torch.compile(step) if compiled else step
    outs = [fn(x, w) for _ in range(3)]
    return fn, outs, w


def _sgd(x, w):
    loss = (x @ w).pow(2).sum()
    loss.backward()            # x.T @ g: a transpose read only by a matmul
    with torch.no_grad():
        w -= 0.01 * w.grad
        w.grad.zero_()
    return loss


def test_backward_transposes_fold_into_their_matmuls():
    _, eager, we = _run(_sgd, False)
    fn, comp, wc = _run(_sgd, True)
    np.testing.assert_allclose([t.item() for t in comp], [t.item() for t in eager], rtol=1e-5)
    np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-5)
    names = _step_names(fn)
    assert "matmul" in names and "transpose" not in names


def _returns_transpose(x, w):
    wt = w.detach().t()
    return x @ wt.t(), wt


def test_a_transpose_that_leaves_the_program_is_still_made():
    _, eager, _ = _run(_returns_transpose, False)
    fn, comp, _ = _run(_returns_transpose, True)
    for (a, b), (c, d) in zip(comp, eager):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5)
        np.testing.assert_array_equal(b.numpy(), d.numpy())
    assert "transpose" in _step_names(fn)
