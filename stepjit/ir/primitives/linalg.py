"""Matrix multiplication: batched over leading dims; 1-D operands are handled by the front end."""
from __future__ import annotations

import numpy as np

from ..registry import Primitive, register
from . import shapes as S

_dot = np.ndarray.dot


def _matmul_impl(x, y):
    # Two matrices: ndarray.dot, which makes the same BLAS call as np.matmul (same bits for
    # operands BLAS can read in place, C or Fortran order: tests/ir/test_registry.py) by a
    # shorter path than the gufunc machinery, about a third less at small sizes. Other layouts
    # it copies to BLAS where np.matmul runs its own loop; batches go to np.matmul.
    if x.ndim == 2 == y.ndim and type(x) is np.ndarray and type(y) is np.ndarray:
        return _dot(x, y)   # (not device arrays: the CUDA simulator's take np.matmul only)
    return np.matmul(x, y)


matmul = register(Primitive(
    "matmul", "matmul", _matmul_impl, S.matmul_rule, inputs=("x", "y"),
    vjp=(lambda g, y: g @ y.mT, lambda g, x: x.mT @ g), grad_name="MmBackward0"))
