"""uint8 tensors used as masks, as PyTorch 0.4-era code makes them (`mask.byte()`): an index
`x[m]` / `x[i, m]` / `x[m] = v` reads them as masks, as PyTorch does (with its deprecation
warning), eager and compiled; they were read as integer positions, silently gathering rows
0 and 1. masked_select refuses them with PyTorch's error instead of gathering rows."""
import numpy as np
import pytest

import stepjit as torch

X = np.arange(6.0).reshape(2, 3)
MASK = X > 2            # row 1 only: as positions the uint8 mask would pick rows 0 and 1


def x():
    return torch.tensor(X)


def byte_mask():
    return torch.tensor(MASK.astype(np.uint8))


def test_getitem_reads_a_byte_mask_as_a_mask():
    with pytest.warns(UserWarning, match="indexing with dtype stepjit.uint8 is now deprecated"):
        got = x()[byte_mask()]
    np.testing.assert_array_equal(got.numpy(), X[MASK])
    with pytest.warns(UserWarning):
        got = x()[1, byte_mask()[1]]
    np.testing.assert_array_equal(got.numpy(), X[1, MASK[1]])


def test_setitem_through_a_byte_mask():
    y = x()
    with pytest.warns(UserWarning):
        y[byte_mask()] = 0.0
    want = X.copy()
    want[MASK] = 0.0
    np.testing.assert_array_equal(y.numpy(), want)
    y = x()
    with pytest.warns(UserWarning):
        y[byte_mask()] = torch.tensor([7.0, 8.0, 9.0], dtype=torch.float64)
    want[MASK] = [7.0, 8.0, 9.0]
    np.testing.assert_array_equal(y.numpy(), want)


def test_gradient_and_compiled_step_follow_the_mask():
    @torch.compile(backend="interpret")
    def step(w, m):
        loss = (w[m] ** 2).sum()
        loss.backward()
        return loss

    w = x().requires_grad_()
    with pytest.warns(UserWarning):
        loss = step(w, byte_mask())
    assert loss.item() == float((X[MASK] ** 2).sum())
    np.testing.assert_array_equal(w.grad.numpy(), np.where(MASK, 2 * X, 0.0))


def test_masked_select_refuses_a_byte_mask():
    with pytest.raises(RuntimeError, match=r"masked_select: expected BoolTensor for mask "
                                           r"\(got uint8 \[2, 3\], at test_byte_masks"):
        x().masked_select(byte_mask())
    np.testing.assert_array_equal(x().masked_select(torch.tensor(MASK)).numpy(), X[MASK])


def test_same_as_pytorch():
    pt = pytest.importorskip("torch")
    t, m = pt.tensor(X), pt.tensor(MASK.astype(np.uint8))
    with pytest.warns(UserWarning):
        theirs = t[m].numpy()
    with pytest.warns(UserWarning):
        ours = x()[byte_mask()].numpy()
    np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
        t.masked_select(m)


def test_where_takes_a_byte_condition_with_pytorchs_warning():
    for call in (lambda c: torch.where(c, x(), 0.0), lambda c: x().where(c, 0.0)):
        with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
            got = call(byte_mask())
        np.testing.assert_array_equal(got.numpy(), np.where(MASK, X, 0.0))
    # other integer conditions stay refused, as PyTorch refuses them
    with pytest.raises(RuntimeError, match="condition must be a bool tensor, got int64"):
        torch.where(torch.tensor(MASK.astype(np.int64)), x(), 0.0)
