"""Reductions and the composites built from them (mean, var, softmax, logsumexp, ...)."""
from __future__ import annotations

import builtins

from ..dispatch import apply
from ..errors import ShapeError, op_error, user_location
from ..ir import primitives as P
from ..ir.primitives.shapes import norm_axis
from ..ir.types import FLOAT, as_dtype, int64 as INT64
from ..autograd.node import node_class, show_edges
from ..tensor import Tensor
from . import return_types



def _axis(input, dim, op):
    try:
        axis = norm_axis(dim, input.ndim)
    except ShapeError as e:
        raise op_error(e, op) from None
    # A 0-d tensor has one element and PyTorch lets dim 0 (or -1) name it: reducing over it
    # is reducing over everything.
    return None if input.ndim == 0 else axis


def _rename(t, name, *inputs):
    """Give a composite's last node PyTorch's name for the composite (MeanBackward0) and, given
    the composite's inputs as PyTorch's node lists them (None: no gradient), its edges to them
    as the next_functions a user walks."""
    node = t._grad_fn
    if node is not None:
        node.__class__ = node_class(node.__class__.__mro__[1], name)
        if inputs:
            show_edges(node, inputs)
    return t


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None or dim == ():   # (a full reduction: no axis normalization to do)
        return apply(P.sum, input, axis=None, keepdims=bool(keepdim))
    return apply(P.sum, input, axis=_axis(input, dim, "sum"), keepdims=bool(keepdim))


def _aliases(dim, keepdim, axis, keepdims):
    """NumPy's spellings, which PyTorch accepts too: axis= for dim=, keepdims= for keepdim=."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


def count(input, axis, correction=0, dtype=None):
    """The number of elements of `input` over `axis` (less `correction`, at least 0) as a 0-d
    tensor of its dtype (or `dtype`): a mean's divisor. A node of the graph, not a literal, so that a
    compiled step computes it from the shape it runs on and a new batch size compiles no
    kernel (the `numel` primitive)."""
    return apply(P.numel, shape=tuple(input.shape), axis=axis, correction=correction,
                 dtype=input.dtype if dtype is None else dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.category != FLOAT:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype.name} (at {user_location()})")
    axis = _axis(input, None if dim == () else dim, "mean")
    out = apply(P.div, apply(P.sum, input, axis=axis, keepdims=bool(keepdim)), count(input, axis))
    return _rename(out, "MeanBackward0" if axis is None else "MeanBackward1", input)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axis = _axis(input, dim, "var")
    centered = apply(P.sub, input, mean(input, axis, keepdim=True))
    ss = apply(P.sum, apply(P.mul, centered, centered), axis=axis, keepdims=bool(keepdim))
    return _rename(apply(P.div, ss, count(input, axis, correction)), "VarBackward0", input)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    return _rename(apply(P.sqrt, var(input, dim, unbiased, keepdim, correction=correction)),
                   "StdBackward0", input)


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    return apply(P.amax, input, axis=_axis(input, None if dim == () else dim, "amax"),
                 keepdims=bool(keepdim))


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    return apply(P.amin, input, axis=_axis(input, None if dim == () else dim, "amin"),
                 keepdims=bool(keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    return return_types.aminmax(amin(input, () if dim is None else dim, keepdim),
                          amax(input, () if dim is None else dim, keepdim))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if dim is None:
        return apply(P.argmax, input.reshape(-1), axis=(0,), keepdims=False)
    return apply(P.argmax, input, axis=_axis(input, dim, "argmax"), keepdims=bool(keepdim))


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if dim is None:
        return apply(P.argmin, input.reshape(-1), axis=(0,), keepdims=False)
    return apply(P.argmin, input, axis=_axis(input, dim, "argmin"), keepdims=bool(keepdim))


def _extremum(input, dim, keepdim, other, arg_prim, red_prim, name):
    from .elementwise import maximum, minimum
    from .index import take_along_dim
    if other is not None:  # torch.max(a, b) is elementwise
        return (maximum if red_prim is P.amax else minimum)(input, other)
    if dim is None:
        return _rename(apply(red_prim, input, axis=None, keepdims=False), name + "Backward1")
    axis = _axis(input, dim, name.lower())
    idx = apply(arg_prim, input, axis=axis, keepdims=True)
    values = take_along_dim(input, idx, axis[0])
    if not keepdim:
        values = values.squeeze(axis[0])
        idx = idx.squeeze(axis[0])
    return getattr(return_types, name.lower())(_rename(values, name + "Backward0"), idx)


def max(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _extremum(input, dim, keepdim, other, P.argmax, P.amax, "Max")


def min(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _extremum(input, dim, keepdim, other, P.argmin, P.amin, "Min")


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    axis = _axis(input, dim, "logsumexp")
    m = apply(P.amax, input, axis=axis, keepdims=True).detach()
    # PyTorch shifts by 0 where the maximum is infinite: a row holding +inf gives inf, an
    # all -inf row -inf (a shift by the infinity itself would make inf - inf = nan).
    m = apply(P.where, apply(P.eq, apply(P.abs, m), float("inf")), 0.0, m)
    s = apply(P.sum, apply(P.exp, apply(P.sub, input, m)), axis=axis, keepdims=True)
    out = apply(P.add, apply(P.log, s), m)
    return _rename(out if keepdim else out.squeeze(axis), "LogsumexpBackward0", input)


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(as_dtype(dtype))
    axis = _axis(input, -1 if dim is None else dim, "softmax")
    e = apply(P.exp, apply(P.sub, input, apply(P.amax, input, axis=axis, keepdims=True).detach()))
    return _rename(apply(P.div, e, apply(P.sum, e, axis=axis, keepdims=True)), "SoftmaxBackward0",
                   input)


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(as_dtype(dtype))
    axis = _axis(input, -1 if dim is None else dim, "log_softmax")
    shifted = apply(P.sub, input, apply(P.amax, input, axis=axis, keepdims=True).detach())
    lse = apply(P.log, apply(P.sum, apply(P.exp, shifted), axis=axis, keepdims=True))
    return _rename(apply(P.sub, shifted, lse), "LogSoftmaxBackward0", input)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    n = count(input, _axis(input, dim, "all"), dtype=INT64)
    return apply(P.eq, sum(input.bool(), dim, keepdim), n)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    return apply(P.gt, sum(input.bool(), dim, keepdim), 0)


def norm(input, p=2, dim=None, keepdim=False, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    return _rename(_norm(input, p, dim, keepdim), "LinalgVectorNormBackward0", input)


def _norm(input, p, dim, keepdim):
    from .elementwise import abs
    if p == 2 or p == "fro":
        # At a zero vector PyTorch's gradient is 0, where sqrt's would be inf * 0: the sqrt
        # reads a 1 there instead, and its branch of the where gets no gradient.
        ss = sum(apply(P.mul, input, input), dim, keepdim)
        zero = apply(P.eq, ss, 0)
        return apply(P.where, zero, 0.0, apply(P.sqrt, apply(P.where, zero, 1.0, ss)))
    if p == 1:
        return sum(abs(input), dim, keepdim)
    return apply(P.pow, sum(apply(P.pow, abs(input), p), dim, keepdim), 1.0 / p)


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return _rename(apply(P.prod, input, axis=None, keepdims=False), "ProdBackward0")
    if not isinstance(dim, int):
        raise TypeError(f"prod(): dim must be an int, got {dim!r}")
    return _rename(apply(P.prod, input, axis=_axis(input, dim, "prod"), keepdims=bool(keepdim)),
                   "ProdBackward1")


def count_nonzero(input, dim=None, *, axis=None):
    if axis is not None:
        dim = axis
    return sum(apply(P.ne, input, 0), dim)
