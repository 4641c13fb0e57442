"""Indexing with a boolean mask inside a compiled step (`y[mask]`, `out[mask] = f(x[mask])`,
the way spline flows treat points inside and outside their interval): the result's length is
the mask's count, which a trace cannot know, so the mask is read as nonzero() reads it and the
step runs its Python on every call (programs reused by shape), with one warning naming the
line. Values and gradients are eager's, and eager's are NumPy's."""
import contextlib
import re

import numpy as np
import pytest

import stepjit


def _piecewise(x, w):
    """Inside [-1, 1]: a learned cubic; outside: the identity, copied through the mask."""
    y = x * w
    inside = (y >= -1) & (y <= 1)
    out = stepjit.zeros_like(y)
    out[~inside] = y[~inside]
    out[inside] = y[inside] ** 3 * 0.5 + y[inside]
    return out


def _reference(x, w):
    y = x * w
    return np.where(np.abs(y) <= 1, y ** 3 * 0.5 + y, y)


def _batches():
    rng = np.random.default_rng(5)
    # a different number of points inside on each call, and one call with none inside
    return [rng.uniform(-2, 2, (6, 3)).astype(np.float32) for _ in range(3)] + \
        [np.full((6, 3), 3.0, np.float32)]


def test_values_and_gradients_follow_each_calls_mask():
    w_eager = stepjit.tensor([0.5, 1.5, -1.0], requires_grad=True)
    w_comp = stepjit.tensor([0.5, 1.5, -1.0], requires_grad=True)

    def step(x, w):
        out = _piecewise(x, w)
        loss = (out * out).sum()
        loss.backward()
        return out

    fn = stepjit.compile(step, backend="interpret")
    for k, xb in enumerate(_batches()):
        x = stepjit.from_numpy(xb)
        if k == 0:
            with pytest.warns(UserWarning, match=re.escape("a boolean mask at test_mask_indexing")):
                got = fn(x, w_comp)
        else:
            got = fn(x, w_comp)
        want = step(x, w_eager)
        np.testing.assert_array_equal(got.numpy(), want.detach().numpy())
        np.testing.assert_allclose(want.detach().numpy(), _reference(xb, w_eager.detach().numpy()),
                                   rtol=1e-6)
        np.testing.assert_array_equal(w_comp.grad.numpy(), w_eager.grad.numpy())
    st = fn.stats()
    assert st["mode"] == "per-call retracing" and st["fallbacks"] == 0, st


def test_masks_in_a_tuple_key_and_on_the_native_backend():
    def step(x):
        rows = x.sum(1) > 0
        cols = x[0] < 0.5
        return x[rows, 1:].sum(0) + x[:, cols].sum() + x[x > 0.25].mean()

    fn = stepjit.compile(step)
    for xb in _batches()[:3]:
        x = stepjit.from_numpy(xb)
        with pytest.warns(UserWarning) if fn.stats()["calls"] == 0 else contextlib.nullcontext():
            got = fn(x)
        rows, cols = xb.sum(1) > 0, xb[0] < 0.5
        want = xb[rows, 1:].sum(0) + xb[:, cols].sum() + xb[xb > 0.25].mean()
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_a_mask_filled_with_a_number_stays_one_trace():
    """`x[mask] = 0` has the shape of x whatever the mask holds: nothing to read per call."""
    def step(x):
        y = x * 2
        y[y < 0] = 0.0
        return y.sum()

    fn = stepjit.compile(step, backend="interpret")
    for xb in _batches():
        np.testing.assert_allclose(float(fn(stepjit.from_numpy(xb))),
                                   np.maximum(xb * 2, 0).sum(), rtol=1e-6)
    assert fn.stats()["traces"] == 1, fn.stats()

