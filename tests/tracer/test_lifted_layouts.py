"""A compiled step that asks for `.contiguous()` on a tensor it did not receive as an argument:
a strided view made outside the step (the target batch `tgt[:, 1:]` a data class builds
before the loop, a transposed table). The tensor is lifted into the trace; its contiguous
copy is then a trace-time value, which has no strides to rearrange, so the copy must stay a
traced value (reshaping it afterwards, `y.contiguous().view(-1)`, used to fail while
tracing). Each case compares the compiled step with the eager one on two calls."""
import numpy as np
import pytest

import stepjit as torch

# The failure was in tracing, before any backend ran: the interpreter backend suffices.
pytestmark = pytest.mark.parametrize("backend", ["interpret"])


def _views():
    g = np.random.default_rng(11)
    tokens = torch.tensor(g.integers(0, 5, (4, 6)))
    table = torch.tensor(g.standard_normal((3, 4)), dtype=torch.float32)
    return tokens[:, 1:], table.t()           # both strided, neither row-major


def _step(targets, table_t):
    def step(w):
        flat = targets.contiguous().view(-1)                 # int64 [20]
        rows = table_t.contiguous().view(2, -1)             # float32 [2, 6]
        loss = (w[flat].sum() + rows.sum(0) @ w[:6]) ** 2
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            w.grad = None
        return loss
    return step


def _run(compiled, backend):
    targets, table_t = _views()
    assert not targets.is_contiguous() and not table_t.is_contiguous()
    w = torch.linspace(-1.0, 1.0, 8).requires_grad_()
    step = _step(targets, table_t)
    if compiled:
        step = torch.compile(step, backend=backend)
    losses = [float(step(w)) for _ in range(2)]
    return losses, w.detach().numpy().copy()


def test_contiguous_copy_of_a_lifted_view_is_traced(backend):
    want_losses, want_w = _run(False, backend)
    got_losses, got_w = _run(True, backend)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
