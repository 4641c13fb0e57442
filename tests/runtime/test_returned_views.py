"""A compiled step that returns a view of its input hands back an array that owns its data
(compiled results are copies of views, writeback._owned), on every path: the native program
called with raw addresses (codegen/pointers.py) returned a view of the input's memory that
kept nothing alive, so the result read freed memory once the input was gone."""
import gc

import numpy as np
import pytest

import stepjit as torch


def _step(x):
    return x.t(), (x * 2).sum()


@pytest.mark.parametrize("native", ["0", "1"])
def test_a_returned_view_of_an_input_outlives_the_input(native, monkeypatch, fresh_kernels):
    monkeypatch.setenv("STEPJIT_NATIVE", native)   # fresh_kernels: no program another test built
    c = torch.compile(_step)
    x0 = torch.randn(4, 3)
    for _ in range(70):                  # past the 64th reuse: hot, native where allowed
        c(x0)
    x = torch.randn(4, 3)
    want = x.numpy().T.copy()
    view, total = c(x)
    np.testing.assert_array_equal(view.numpy(), want)
    np.testing.assert_allclose(total.item(), 2 * float(want.sum()), rtol=1e-5)
    arr = view._data                     # the tensor's own array (numpy() hands out a view)
    assert not np.shares_memory(arr, x._data)
    assert arr.flags.owndata or arr.base is not None      # something keeps the memory alive
    del x
    gc.collect()
    _junk = [np.full((4, 3), 7.0, np.float32) for _ in range(64)]
    np.testing.assert_array_equal(view.numpy(), want)
