"""A fused loop that both accumulates a reduction along its innermost dim and stores elementwise
results is emitted as two loops (reductions, then elementwise), so the elementwise one can
vectorize; outputs computed into an input's buffer are stored through that input. Compiled
results must still equal eager ones: the reduction must read the values from before an
in-place update in the same group, at every block boundary."""
import numpy as np
import pytest

import stepjit as torch

BLOCK = 2048


def _kernels(fn):
    return [src for _, prog in fn.programs.values() for src in prog.kernel_sources()]


def _adam(compiled, n):
    w = torch.tensor(np.linspace(-1, 1, n, dtype=np.float32), requires_grad=True)
    g = torch.tensor(np.linspace(0.5, 1, n, dtype=np.float32))
    opt = torch.optim.Adam([w], lr=1e-2)

    def step():
        loss = (w * g).sum()     # read in the same loop that overwrites w
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    fn = torch.compile(step) if compiled else step
    losses = [fn().item() for _ in range(4)]
    return fn, losses, w.detach().numpy().copy()


@pytest.mark.parametrize("n", [7, 2 * BLOCK + 5])
def test_loss_and_in_place_update_in_one_group_match_eager(n):
    _, e_losses, e_w = _adam(False, n)
    fn, c_losses, c_w = _adam(True, n)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-5, atol=1e-7)
    split = [s for s in _kernels(fn) if "# reductions along i0" in s]
    assert split, "the loss and the update were expected in one split loop"
    src = split[0]
    assert src.index("# reductions along i0") < src.index("# elementwise results")
    # w is updated through its own argument (a0b[...] = ...), not through a separate output
    assert "a0b[i0] = " in src


def test_whole_sum_beside_elementwise_gradient_in_2d():
    rng = np.random.default_rng(0)
    pred0 = rng.standard_normal((6, 33)).astype(np.float32)
    y = torch.tensor(rng.standard_normal((6, 33)).astype(np.float32))

    def run(compiled):
        p = torch.tensor(pred0.copy(), requires_grad=True)

        def step():
            loss = (p - y).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                p.sub_(0.1 * p.grad)
                p.grad.zero_()
            return loss
        fn = torch.compile(step) if compiled else step
        return fn, [fn().item() for _ in range(3)], p.detach().numpy().copy()

    _, e_losses, e_p = run(False)
    fn, c_losses, c_p = run(True)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(c_p, e_p, rtol=1e-5, atol=1e-7)
    assert any("# reductions along i1" in s for s in _kernels(fn))


def test_row_sums_beside_elementwise_results():
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((5, 300)).astype(np.float32)

    def run(compiled):
        x = torch.tensor(x0.copy())

        def step(x):
            e = (x * 2.0).exp()
            return e, e.sum(dim=1)
        fn = torch.compile(step) if compiled else step
        return [t.numpy() for t in fn(x)]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def _stored_split(fn):
    return [s for s in _kernels(fn) if "of stored values" in s]


def test_a_reduced_value_that_is_stored_is_computed_once():
    """softmax's exp is both stored (for the backward) and summed along the row: the split loop
    computes it once, in the elementwise half, and the sum reads it back; values as eager."""
    import stepjit.nn.functional as F
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((6, 40)).astype(np.float32)
    y = torch.tensor(rng.integers(0, 40, 6))

    def run(compiled):
        x = torch.tensor(x0.copy(), requires_grad=True)

        def step():
            loss = F.cross_entropy(x * 2.0, y)
            loss.backward()
            return loss
        fn = torch.compile(step) if compiled else step
        return fn, fn().item(), x.grad.numpy().copy()

    fn, loss, grad = run(True)
    _, e_loss, e_grad = run(False)
    np.testing.assert_allclose(loss, e_loss, rtol=1e-6)     # (vexp: within its ulp bound)
    np.testing.assert_allclose(grad, e_grad, rtol=1e-5, atol=1e-7)
    split = [s for s in _stored_split(fn) if "vexp(" in s]
    assert split and all(s.count("vexp(") == 1 for s in split)
    assert all(s.index("# elementwise results") < s.index("of stored values") for s in split)


@pytest.mark.parametrize("n", [40, 2 * BLOCK + 5])
def test_a_reduced_value_computed_in_place_is_read_back_after_its_store(n):
    """The reduced value is the parameter's new value, computed into its own buffer: the sum
    reads the stored new values, as eager sums the updated tensor."""
    g0 = np.linspace(-1, 1, n, dtype=np.float32)

    def run(compiled):
        w = torch.tensor(np.linspace(0.5, 2, n, dtype=np.float32))
        g = torch.tensor(g0)

        def step():
            w.sub_(0.1 * g)
            return w.sum()
        fn = torch.compile(step) if compiled else step
        return fn, [fn().item() for _ in range(3)], w.numpy().copy()

    fn, sums, w = run(True)
    _, e_sums, e_w = run(False)
    np.testing.assert_array_equal(w, e_w)
    np.testing.assert_allclose(sums, e_sums, rtol=1e-6)
    assert any("a0b[i0]" in s or "a0[i0]" in s for s in _stored_split(fn))
