"""`out=` on the tensor functions (stepjit/ops/out.py), against NumPy's values and PyTorch's
documented behaviour: the result lands in out and out is returned; autograd and a narrowing
dtype are refused before anything is written; another shape is resized with PyTorch's
warning; creation functions draw in out's dtype; a compiled step writes out in place."""
import warnings

import numpy as np
import pytest

import stepjit as torch


def _arrays():
    rng = np.random.default_rng(3)
    return rng.standard_normal((3, 4)), rng.standard_normal((4, 2))


def test_out_receives_the_result_and_is_returned():
    a, b = _arrays()
    y = torch.empty(3, 2, dtype=torch.float64)
    r = torch.matmul(torch.from_numpy(a), torch.from_numpy(b), out=y)
    assert r is y
    np.testing.assert_allclose(y.numpy(), a @ b, rtol=1e-12)
    z = torch.empty(3, 4, dtype=torch.float64)
    torch.mul(torch.from_numpy(a), 2.0, out=z)
    np.testing.assert_array_equal(z.numpy(), a * 2.0)
    s = torch.empty(4, dtype=torch.float64)
    torch.sum(torch.from_numpy(a), 0, out=s)
    np.testing.assert_allclose(s.numpy(), a.sum(0), rtol=1e-12)


def test_out_may_be_an_input():
    x = torch.ones(3)
    assert torch.add(x, 1, out=x) is x
    np.testing.assert_array_equal(x.numpy(), [2.0, 2.0, 2.0])


def test_functions_with_several_results_take_a_tuple():
    a, _ = _arrays()
    values, indices = torch.empty(3, dtype=torch.float64), torch.empty(3, dtype=torch.int64)
    r = torch.max(torch.from_numpy(a), 1, out=(values, indices))
    assert r.values is values and r.indices is indices and r[0] is values
    np.testing.assert_array_equal(values.numpy(), a.max(1))
    np.testing.assert_array_equal(indices.numpy(), a.argmax(1))
    sv, si = torch.empty(4, dtype=torch.float64), torch.empty(4, dtype=torch.int64)
    torch.sort(torch.from_numpy(a[0]), out=(sv, si))
    np.testing.assert_array_equal(sv.numpy(), np.sort(a[0]))
    with pytest.raises(TypeError, match="out= must be 2 tensor"):
        torch.max(torch.from_numpy(a), 1, out=values)


def test_autograd_is_refused_before_writing():
    w = torch.ones(2, 3, requires_grad=True)
    out = torch.zeros(2, 3)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.mul(w, w, out=out)
    assert not out.numpy().any()
    with torch.no_grad():
        torch.mul(w, 3.0, out=out)
    assert not out.requires_grad and (out.numpy() == 3).all()
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.add(torch.ones(2), 1, out=torch.zeros(2, requires_grad=True))


def test_dtype_follows_the_in_place_rule():
    long_out = torch.zeros(2, 3, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired "
                                           "output type int64"):
        torch.mul(torch.ones(2, 3), 2.5, out=long_out)
    assert not long_out.numpy().any()
    narrow = torch.empty(3)
    torch.mul(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 1 / 3, out=narrow)
    assert narrow.dtype == torch.float32
    np.testing.assert_array_equal(narrow.numpy(), (np.arange(1, 4) / 3).astype(np.float32))


def test_another_shape_is_resized_with_pytorchs_warning():
    out = torch.empty(5)
    with pytest.warns(UserWarning, match=r"had shape \[5\].*required output shape \[2, 3\]"):
        torch.mul(torch.ones(2, 3), 2, out=out)
    assert tuple(out.shape) == (2, 3) and (out.numpy() == 2).all()
    empty = torch.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.add(torch.ones(2), 1, out=empty)
    np.testing.assert_array_equal(empty.numpy(), [2.0, 2.0])
    base = torch.zeros(4)
    with pytest.raises(RuntimeError, match="resizing out is not supported for a view"):
        torch.add(torch.ones(3), 1, out=base[:2])
    assert not base.numpy().any()


def test_creation_functions_draw_in_outs_dtype():
    out = torch.empty(3, dtype=torch.float64)
    torch.manual_seed(5)
    assert torch.rand(3, out=out) is out
    torch.manual_seed(5)
    np.testing.assert_array_equal(out.numpy(), torch.rand(3, dtype=torch.float64).numpy())
    idx = torch.empty(4, dtype=torch.int64)
    torch.arange(4, out=idx)
    np.testing.assert_array_equal(idx.numpy(), np.arange(4))
    z = torch.ones(2, 2)
    torch.zeros(2, 2, out=z)
    assert not z.numpy().any()


def test_functions_without_out_in_pytorch_refuse_it():
    with pytest.raises(TypeError):
        torch.ones_like(torch.ones(2), out=torch.empty(2))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_step_writes_out_in_place(backend):
    def step(x, w, buf):
        with torch.no_grad():
            torch.matmul(x, w, out=buf)
            torch.add(buf, 1.0, out=buf)
        return buf.sum()

    compiled = torch.compile(step, backend=backend)
    x, w = torch.randn(4, 3), torch.randn(3, 2)
    for _ in range(3):
        be, bc = torch.zeros(4, 2), torch.zeros(4, 2)
        want, got = step(x, w, be), compiled(x, w, bc)
        np.testing.assert_allclose(bc.numpy(), be.numpy(), rtol=1e-6)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
        np.testing.assert_allclose(be.numpy(), x.numpy() @ w.numpy() + 1, rtol=1e-5)
    assert compiled.stats()["fallbacks"] == 0


def test_matches_live_pytorch():
    real = pytest.importorskip("torch")
    a, b = _arrays()
    for T in (torch, real):
        y = T.empty(3, 2, dtype=T.float64)
        T.matmul(T.from_numpy(a), T.from_numpy(b), out=y)
        v, i = T.empty(3, dtype=T.float64), T.empty(3, dtype=T.int64)
        T.max(T.from_numpy(a), 1, out=(v, i))
        if T is torch:
            mine = (y.numpy(), v.numpy(), i.numpy())
        else:
            for m, t in zip(mine, (y.numpy(), v.numpy(), i.numpy())):
                np.testing.assert_allclose(m, t, rtol=1e-12)
