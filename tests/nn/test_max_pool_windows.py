"""max_pool2d picks each window's first maximum (PyTorch's rule, where its index and gradient
point), eagerly and compiled, whether the windows tile the input (MaxPool2d(2): a reshape and
a permute) or overlap, pad or run past the edge (the window gather): checked against a NumPy
reference on data with ties (ReLU zeros), nan, +-inf and -0.0."""
import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F

CONFIGS = [dict(kernel_size=2), dict(kernel_size=2, ceil_mode=True), dict(kernel_size=(2, 3)),
           dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, stride=1)]
SHAPES = [(2, 3, 6, 6), (1, 2, 5, 7)]


def _data(shape):
    x = np.maximum(np.random.default_rng(7).standard_normal(shape), 0).astype(np.float32)
    x.flat[3], x.flat[11], x.flat[20], x.flat[27] = np.nan, np.inf, -np.inf, -0.0
    x[0, 0, 0:2, 0:2] = -0.0                       # a window of negative zeros only
    return x


def _reference(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    kh, kw = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else (stride, stride)
    n, c, h, w = x.shape
    size = [(d + 2 * padding - k + (s - 1 if ceil_mode else 0)) // s + 1
            for d, k, s in ((h, kh, sh), (w, kw, sw))]
    for i, (d, s) in enumerate(((h, sh), (w, sw))):
        if ceil_mode and (size[i] - 1) * s >= d + padding:
            size[i] -= 1
    ho, wo = size
    values = np.zeros((n, c, ho, wo), x.dtype)
    index = np.zeros((n, c, ho, wo), np.int64)
    grad = np.zeros_like(x)
    weight = np.arange(values.size, dtype=np.float32).reshape(values.shape)
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    r0, c0 = i * sh - padding, j * sw - padding
                    cells = [(r, q) for r in range(r0, r0 + kh) for q in range(c0, c0 + kw)
                             if 0 <= r < h and 0 <= q < w]
                    vals = np.array([x[a, b, r, q] for r, q in cells])
                    r, q = cells[int(np.argmax(vals))]
                    values[a, b, i, j], index[a, b, i, j] = x[a, b, r, q], r * w + q
                    grad[a, b, r, q] += weight[a, b, i, j]
    return values, index, grad


def _pool(x, compiled, kw):
    def f(x):
        v, i = F.max_pool2d(x, return_indices=True, **kw)
        (v * stepjit.arange(v.numel(), dtype=v.dtype).reshape(v.shape)).sum().backward()
        return v, i
    t = stepjit.from_numpy(x.copy()).requires_grad_()
    v, i = (stepjit.compile(f) if compiled else f)(t)
    return v.detach().numpy(), i.numpy(), t.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_max_pool2d_first_maximum(kw, shape, compiled):
    x = _data(shape)
    want = _reference(x, **kw)
    got = _pool(x, compiled, kw)
    for g, w, what in zip(got, want, ("values", "indices", "grad")):
        np.testing.assert_array_equal(g, w, err_msg=what)
    assert (np.signbit(got[0]) == np.signbit(want[0])).all()   # -0.0 stays -0.0


def test_max_pool2d_tiles_keep_the_grad_fn_name():
    x = stepjit.from_numpy(_data((1, 1, 6, 6))).requires_grad_()
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
