"""Matrix multiplication: batched over leading dims; 1-D operands are handled by the front end."""
from __future__ import annotations

import numpy as np

from ...errors import LinAlgError
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
    jvp=(lambda t, y: t @ y, lambda t, x: x @ t),
    lowering="matmul", accumulates=True))


# -- inverse and determinant ------------------------------------------------------------
def _square_rule(op):
    def rule(x):
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise S.ShapeError(f"linalg.{op}: A must be batches of square matrices, but they "
                               f"are {x.shape[-2] if x.ndim >= 2 else '?'} by "
                               f"{x.shape[-1] if x.ndim else '?'} matrices (shape {S.fmt(x.shape)})")
        if x.dtype.category != S.FLOAT:
            raise S.DTypeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                               f"{x.dtype.name}")
        return S.AVal(x.shape if op == "inv" else x.shape[:-2], x.dtype)
    return rule


def _inv_impl(x):
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"linalg.inv: the input matrix of shape {list(x.shape)} is singular, "
                           f"the inversion could not be completed") from None


def _det_impl(x):
    return np.asarray(np.linalg.det(x), dtype=x.dtype)


# d inv(A) = -inv(A) dA inv(A), so the gradient is -inv(A)^T g inv(A)^T.
inv = register(Primitive(
    "inv", "matmul", _inv_impl, _square_rule("inv"), inputs=("x",),
    vjp=(lambda g, out: -(out.mT @ g @ out.mT),), grad_name="LinalgInvExBackward0",
    jvp=(lambda t, out: -(out @ t @ out),),
    lowering="impl", accumulates=True))

# d det(A) = det(A) tr(inv(A) dA), so the gradient is g det(A) inv(A)^T (invertible A).
det = register(Primitive(
    "det", "matmul", _det_impl, _square_rule("det"), inputs=("x",),
    vjp=(lambda g, x, out: (g * out).unsqueeze(-1).unsqueeze(-1) * x.inverse().mT,),
    jvp=(lambda t, x, out: out * (x.inverse().mT * t).sum((-2, -1)),),
    grad_name="LinalgDetBackward0", lowering="impl", accumulates=True))
