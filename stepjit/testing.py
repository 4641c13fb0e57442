"""`torch.testing.assert_close`: PyTorch's comparison, with its default tolerances by dtype."""
from __future__ import annotations

import warnings

import numpy as np

from .ops.creation import tensor
from .tensor import Tensor

# PyTorch's defaults (rtol, atol) by dtype; integers and bools compare exactly.
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}


def _array(x):
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy(), x.dtype.name
    a = np.asarray(x)
    return a, a.dtype.name


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless |actual - expected| <= atol + rtol * |expected| elementwise
    (nested lists, tuples and dicts compared item by item)."""
    if isinstance(actual, (list, tuple)) and not isinstance(expected, Tensor):
        assert len(actual) == len(expected), msg or f"lengths differ: {len(actual)} != {len(expected)}"
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict):
        assert actual.keys() == expected.keys(), msg or "keys differ"
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    (a, adt), (e, edt) = _array(actual), _array(expected)
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and adt != edt:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"{adt} != {edt}.")
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{list(a.shape)} != {list(e.shape)}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(adt, (0.0, 0.0))
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        diff = np.abs(a.astype(np.float64) - e.astype(np.float64))[~close]
        worst = float(diff[~np.isnan(diff)].max()) if (~np.isnan(diff)).any() else float("nan")
        raise AssertionError(msg or f"Tensor-likes are not close!\n\nMismatched elements: {bad} / "
                                    f"{close.size}\nGreatest absolute difference: "
                                    f"{worst} (up to {atol} allowed)")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """PyTorch's deprecated comparison: assert_close with its older default tolerances
    (float32 1e-4/1e-5, float64 1e-5/1e-8), NaNs equal, dtypes not compared; `expected` made
    a tensor of actual's dtype when it is not one."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _OLD_TOLERANCES.get(actual.dtype.name, (0.0, 0.0))
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


_OLD_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
