"""An elementwise group of rank >= 2 whose arrays all have the loop's shape runs as one flat
loop over 1-D views when every array is C-contiguous (codegen/loops.py), and as the loop nest
otherwise. Both paths must give eager's values, and the flat one must keep the kernel's
machine-code entry (the view is built without Numba's reshape helper)."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels

FLAT = "flags.c_contiguous"


def _kernels(fn):
    return [src for _, prog in fn.programs.values() for src in prog.kernel_sources()]


def _sgd_rows(x0, w0, compiled):
    """The tutorial's w1 update: a matmul's gradient accumulated into .grad, the parameter
    updated in place, .grad zeroed, in one elementwise group after the matmul."""
    x = torch.tensor(x0)
    w = torch.from_numpy(np.array(w0, order="K")).requires_grad_()   # w0's layout kept

    def step():
        loss = (x @ w).relu().sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    fn = torch.compile(step) if compiled else step
    losses = [fn().item() for _ in range(3)]
    assert w.detach().numpy().flags.c_contiguous == w0.flags.c_contiguous
    return fn, losses, w.detach().numpy().copy()


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_flat_and_nested_paths_match_eager(layout):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((24, 40)).astype(np.float32)
    w0 = rng.standard_normal((40, 30)).astype(np.float32)
    if layout == "transposed":   # a strided parameter: the update must take its loop nest
        w0 = np.ascontiguousarray(w0.T).T
        assert not w0.flags.c_contiguous
    _, e_losses, e_w = _sgd_rows(x0, w0, False)
    fn, c_losses, c_w = _sgd_rows(x0, w0, True)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-6, atol=1e-7)
    assert any(FLAT in s for s in _kernels(fn))


def test_flat_loop_source_reads_flat_views_and_keeps_the_nest():
    x = torch.randn(6, 5)
    w = torch.randn(6, 5)
    fn = torch.compile(lambda x, w: (x * w).relu() + 1.0)
    out = fn(x, w)
    np.testing.assert_allclose(out.numpy(), np.maximum(x.numpy() * w.numpy(), 0) + 1.0)
    src, = _kernels(fn)
    assert "a0f = c_view(a0, (n,))" in src and "o0f = c_view(o0, (n,))" in src
    assert "for i in range(n):" in src
    assert "for i1 in range(n1):" in src      # the nest for strided arrays


def test_broadcasting_or_reducing_groups_keep_the_nest():
    x = torch.randn(6, 5)
    b = torch.randn(5)
    fn = torch.compile(lambda x, b: (x + b).relu())
    np.testing.assert_allclose(fn(x, b).numpy(), np.maximum(x.numpy() + b.numpy(), 0))
    assert not any(FLAT in s for s in _kernels(fn))
    fn2 = torch.compile(lambda x: (x * x).sum())
    np.testing.assert_allclose(fn2(x).item(), float((x.numpy() ** 2).sum()), rtol=1e-5)
    assert not any(FLAT in s for s in _kernels(fn2))


def test_flat_loop_kernel_gets_a_machine_code_entry(tmp_path, monkeypatch):
    """The flat view is built without Numba's reshape, whose C helper no entry can link."""
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    kernels._KERNELS.clear()
    before = kernels.STATS["entries_built"]
    x = torch.randn(7, 3)
    w = torch.randn(7, 3)
    fn = torch.compile(lambda x, w: x * w - 2.0)   # a structure no other test compiles
    fn(x, w)
    np.testing.assert_allclose(fn(x, w).numpy(), x.numpy() * w.numpy() - 2.0, rtol=1e-6)
    assert any(FLAT in s for s in _kernels(fn))
    if not kernels.machine_cache.available():
        pytest.skip("machine-code entries are not available on this platform")
    assert kernels.STATS["entries_built"] > before
