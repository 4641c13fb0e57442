"""Matrix multiplication: batched over leading dims; 1-D operands are handled by the front end."""
from __future__ import annotations

import numpy as np

from ..registry import Primitive, register
from . import shapes as S

_dot = np.ndarray.dot
_DOT_MAX = 4096   # output elements: ndarray.dot zeroes its output before BLAS writes it


def _matmul_impl(x, y):
    # Two matrices with a small product: ndarray.dot, which makes the same BLAS call as
    # np.matmul (same bits for operands BLAS can read in place, C or Fortran order:
    # tests/ir/test_registry.py) by a shorter path than the gufunc machinery, about a third
    # less at small sizes. It memsets its output first, which costs more than it saves on a
    # large one. Other layouts it copies to BLAS where np.matmul runs its own loop; batches
    # and large products go to np.matmul.
    xs, ys = x.shape, y.shape
    if len(xs) == 2 == len(ys) and xs[0] * ys[1] <= _DOT_MAX:
        try:
            return _dot(x, y)
        except TypeError:   # not ndarrays (device arrays under the CUDA simulator): np.matmul
            pass
    return np.matmul(x, y)


matmul = register(Primitive(
    "matmul", "matmul", _matmul_impl, S.matmul_rule, inputs=("x", "y"),
    vjp=(lambda g, y: g @ y.mT, lambda g, x: x.mT @ g), grad_name="MmBackward0",
    lowering="matmul", accumulates=True))
