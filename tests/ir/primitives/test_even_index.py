"""Evenly stepping index tensors as strided views (ir/primitives/even_index.py): the same
values, and the same bits for the accumulating write, as NumPy's fancy indexing and np.add.at."""
import numpy as np
import pytest

from stepjit.ir.primitives import even_index
from stepjit.nn.functions.conv import _window_index

ALL = (None, None, None)
WINDOWS = (ALL, ALL, "T", "T")


def _windows(h, w, k, s, d):
    ho, wo = (h - d * (k - 1) - 1) // s + 1, (w - d * (k - 1) - 1) // s + 1
    return (_window_index(k, s, d, ho).reshape(k, 1, ho, 1),
            _window_index(k, s, d, wo).reshape(1, k, 1, wo))


@pytest.mark.parametrize("shape,k,s,d,dtype", [
    ((4, 8, 16, 16), 3, 1, 1, np.float32), ((4, 8, 17, 16), 3, 2, 1, np.float32),
    ((2, 16, 12, 12), 2, 2, 1, np.float64), ((2, 16, 15, 15), 3, 1, 2, np.float64),
    ((2, 16, 16, 16), 1, 1, 1, np.float32)])
def test_windows_match_fancy_indexing_and_add_at_bit_for_bit(shape, k, s, d, dtype):
    rng = np.random.default_rng(0)
    i, j = _windows(shape[2], shape[3], k, s, d)
    x = rng.standard_normal(shape).astype(dtype)
    got = even_index.view(x, WINDOWS, (i, j))
    assert got is not None
    np.testing.assert_array_equal(got, x[:, :, i, j])
    g = rng.standard_normal(got.shape).astype(dtype)
    ref, out = np.zeros_like(x), np.zeros_like(x)
    np.add.at(ref, (slice(None), slice(None), i, j), g)
    assert even_index.add_at(out, WINDOWS, (i, j), g)
    assert out.tobytes() == ref.tobytes()     # overlapping windows summed in add.at's order


def test_descending_and_offset_indices_and_trailing_dimensions():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 60, 8))
    i = (190 - 3 * np.arange(40)).reshape(40, 1)     # steps down from 190
    j = (2 + 2 * np.arange(25)).reshape(1, 25)       # starts at 2
    np.testing.assert_array_equal(even_index.view(x, ("T", "T"), (i, j)), x[i, j])
    g = rng.standard_normal((40, 25, 8))
    ref, out = np.zeros_like(x), np.zeros_like(x)
    np.add.at(ref, (i, j), g)
    assert even_index.add_at(out, ("T", "T"), (i, j), g)
    np.testing.assert_array_equal(out, ref)


def test_indices_that_do_not_step_evenly_or_leave_the_array_take_numpys_path():
    x = np.zeros((64, 64, 4))
    even = np.arange(32).reshape(32, 1), np.arange(32).reshape(1, 32)
    assert even_index.view(x, ("T", "T"), even) is not None
    uneven = np.array([0, 1, 3] + list(range(4, 33))).reshape(32, 1), even[1]
    out_of_range = even[0] + 40, even[1]
    negative = even[0] - 1, even[1]
    plain = (np.arange(64),)                         # no broadcasting: nothing to gain
    between = ((None, None, None), "T", (0, 2, 1), "T")
    for key, idx in [(("T", "T"), uneven), (("T", "T"), out_of_range), (("T", "T"), negative),
                     (("T",), plain)]:
        assert even_index.view(x, key, idx) is None
        assert not even_index.add_at(x, key, idx, 1.0)
    assert even_index.view(np.zeros((4, 64, 2, 64)), between, even) is None
    assert not x.any()


def test_conv2d_and_its_backward_take_the_strided_path(monkeypatch):
    import stepjit as sj
    taken = []

    def spy(name):
        real = getattr(even_index, name)

        def call(*args):
            result = real(*args)
            taken.append((name, result is not None and result is not False))
            return result
        return call
    for name in ("view", "add_at"):
        monkeypatch.setattr(even_index, name, spy(name))
    x = sj.randn(2, 4, 20, 20, dtype=sj.float64, requires_grad=True)
    w = sj.randn(6, 4, 3, 3, dtype=sj.float64, requires_grad=True)
    out = sj.nn.functional.conv2d(x, w, padding=1)
    out.square().sum().backward()
    assert {name for name, _ in taken} == {"view", "add_at"} and all(ok for _, ok in taken)
    # the gradient is still the convolution's: against a finite difference of one weight
    eps, k = 1e-6, (1, 2, 0, 1)
    base = float(sj.nn.functional.conv2d(x.detach(), w.detach(), padding=1).square().sum())
    bumped = w.detach().clone()
    bumped[k] += eps
    num = (float(sj.nn.functional.conv2d(x.detach(), bumped, padding=1).square().sum()) - base) / eps
    assert abs(num - float(w.grad[k])) < 1e-3 * max(1.0, abs(num))
