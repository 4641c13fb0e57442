"""Reductions over a sorted tuple of axes (None = all), with PyTorch's keepdim."""
from __future__ import annotations

import numpy as np

from ...errors import StepjitError
from ..registry import Primitive, bind, register
from . import shapes as S
from .movement import concat
from .scans import cumprod


def unreduce(g, shape, axis, keepdims):
    """Broadcast a reduced gradient back to the reduced input's shape."""
    if not keepdims:
        g = g.reshape(S.reduced_shape(shape, axis, True))
    return g.expand(shape)


def _sum_grad(g, in_shapes, axis, keepdims):
    return unreduce(g, in_shapes[0], axis, keepdims)


def _extremum_grad(g, x, out, in_shapes, axis, keepdims):
    # Ties share the gradient evenly, as PyTorch's amax/amin do; a NaN result was chosen by
    # the NaNs of its slice (PyTorch's evenly_distribute_backward), which share it likewise.
    shape = in_shapes[0]
    o = unreduce(out, shape, axis, keepdims)
    hit = (x == o).logical_or((x != x).logical_and(o != o))
    count = hit.sum(axis, keepdim=True)
    return unreduce(g, shape, axis, keepdims) * hit / unreduce(count, shape, axis, True)


def _row_major(out):
    """A reduction's result in PyTorch's layout, row-major (NumPy keeps the input's axis
    order: a sum over a permuted array is column-major), so that `view` accepts what
    PyTorch's would."""
    out = np.asarray(out)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def _sum_impl(x, axis, keepdims):
    # np.add.reduce is what ndarray.sum runs, without its Python wrapper.
    return _row_major(np.add.reduce(x, axis=axis, keepdims=keepdims,
                                    dtype=x.dtype if x.dtype.kind == "f" else np.int64))


def _amax_impl(x, axis, keepdims):
    return _row_major(x.max(axis=axis, keepdims=keepdims))


def _amin_impl(x, axis, keepdims):
    return _row_major(x.min(axis=axis, keepdims=keepdims))


def _arg_impl(fn):
    def impl(x, axis, keepdims):
        ax = None if axis is None else axis[0]
        out = fn(x, axis=ax, keepdims=keepdims if ax is not None else False)
        return np.asarray(out, dtype=np.int64)
    return impl


def _sum_name(attrs):
    return "SumBackward0" if attrs["axis"] is None else "SumBackward1"


def _reduction(name, impl, rule, vjp, grad_name=None, **facts):
    return register(Primitive(name, "reduction", impl, rule, inputs=("x",),
                              attrs=("axis", "keepdims"), vjp=vjp, grad_name=grad_name, **facts))


sum = _reduction("sum", _sum_impl, S.sum_rule, (_sum_grad,), _sum_name, reduce="add",
                 accumulates=True, jvp="linear")
amax = _reduction("amax", _amax_impl, S.reduce_rule, (_extremum_grad,), "AmaxBackward0",
                  reduce="max", keeps_uniform=True)
amin = _reduction("amin", _amin_impl, S.reduce_rule, (_extremum_grad,), "AminBackward0",
                  reduce="min", keeps_uniform=True)
argmax = _reduction("argmax", _arg_impl(np.argmax), S.arg_reduce_rule, None)
argmin = _reduction("argmin", _arg_impl(np.argmin), S.arg_reduce_rule, None)


def _prod_impl(x, axis, keepdims):
    return np.asarray(np.multiply.reduce(x, axis=axis, keepdims=keepdims,
                                         dtype=x.dtype if x.dtype.kind == "f" else np.int64))


def _prod_grad(g, x, in_shapes, axis, keepdims):
    """g times the product of the other elements: exclusive prefix times exclusive suffix
    products (two cumprods), so zeros in x get their exact gradient, with no division."""
    shape = tuple(in_shapes[0])
    if not shape:
        return g
    axes = tuple(range(len(shape))) if axis is None else axis
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    perm = kept + axes
    n = 1
    for a in axes:
        n *= shape[a]
    flat = x.permute(perm).reshape(tuple(shape[i] for i in kept) + (n,))
    ones = flat[..., :1] * 0 + 1
    before = bind(cumprod, flat, axis=flat.ndim - 1)[..., :-1]
    after = bind(cumprod, flat.flip(-1), axis=flat.ndim - 1)[..., :-1].flip(-1)
    others = _cat(ones, before) * _cat(after, ones)
    others = others.reshape(tuple(shape[i] for i in perm)).permute(_inverse(perm))
    return unreduce(g, shape, axis, keepdims) * others


def _cat(a, b):
    return bind(concat, a, b, axis=a.ndim - 1)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


prod = _reduction("prod", _prod_impl, S.sum_rule, (_prod_grad,), "ProdBackward0")


# -- the count of a mean's divisor ----------------------------------------------------------
def count(shape, axis, correction=0) -> int:
    """Elements of `shape` over `axis` (None: all), less `correction`, never below 0: the
    divisor of a mean (correction 0) or of a variance (Bessel's correction 1)."""
    n = 1
    for i, d in enumerate(shape):
        if axis is None or i in axis:
            n *= d
    return max(0, n - correction)


def _numel_impl(shape, axis, correction, dtype):
    return np.array(count(shape, axis, correction), dtype.np)


def _numel_rule(shape, axis, correction, dtype):
    return S.AVal((), dtype)


# A number of a shape, as a 0-d value: the divisor of a mean. A node rather than a literal so
# that it stays a value of the program the backends fill in from the shape they run on
# (lowering "size"; constant folding leaves it alone): the kernels that divide by it read it
# like any 0-d input, so their source holds no batch size and a new batch size compiles no
# kernel. It has no operands: it reads no data, so it orders nothing and fuses with anything.
numel = register(Primitive(
    "numel", "creation", _numel_impl, _numel_rule, inputs=(),
    attrs=("shape", "axis", "correction", "dtype"), lowering="size"))


# -- a check on data --------------------------------------------------------------------------
def _check_range_impl(x, axis, keepdims, lo, hi, op):
    if x.size and not ((x >= lo) & (x <= hi)).all():   # (NaN fails both comparisons)
        err = StepjitError(f"all elements of input should be between {lo:g} and {hi:g}")
        err.op = op
        raise err
    return np.zeros((), x.dtype)


def _check_range_rule(x, axis, keepdims, lo, hi, op):
    return S.AVal((), x.dtype)


# Every element of x in [lo, hi], or `op` raises (axis None, keepdims False: a reduction of all) (binary_cross_entropy's input). Eagerly the
# impl raises; compiled, the loop that computes x also folds this flag (1 where an element is
# out of range or NaN: a max over the batch, nearly free), and the program raises the same
# error as soon as the flag is computed (`check`), before anything is written back.
check_range = register(Primitive(
    "check_range", "reduction", _check_range_impl, _check_range_rule, inputs=("x",),
    attrs=("axis", "keepdims", "lo", "hi", "op"), reduce="max", expr="(0.0 if {lo} <= {0} <= {hi} else 1.0)",
    pure=False, check=True))
