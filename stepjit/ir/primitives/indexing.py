"""Indexing primitives: reads and functional writes through an index key.

A key is a tuple, one entry per indexed position, each an int, None (a new
axis), a (start, stop, step) triple for a slice, "T" for the next index
tensor among the op's inputs, or "G" for one read as torch.gather reads it:
like "T", except that a negative index is out of bounds (it does not count
from the end), so `gather`/`take_along_dim` (and the losses built on them)
reject a negative class index as PyTorch does instead of wrapping around. Keys are plain data so the IR can print, parse
and hash them. In-place writes (`x[k] = v`) are these functional writes plus a
store, done by the front end.
"""
from __future__ import annotations

import builtins

import numpy as np

from ...errors import IndexingError, ShapeError, numpy_index_message
from ..registry import Primitive, bind, register
from ..types import AVal, BOOL, INT
from . import even_index
from . import shapes as S


def np_key(key, tensors=(), masks_as_indices=False):
    """The NumPy index for a key. ufunc.at needs bool masks spelled as integer indices;
    plain reads and writes keep the mask, which NumPy applies faster."""
    if key == ("T",) and not masks_as_indices:
        return (tensors[0],)   # the common `x[t]`
    it = iter(tensors)
    out = []
    for k in key:
        if k == "T" or k == "G":
            t = next(it)
            if masks_as_indices and t.dtype == np.bool_:
                out.extend(np.nonzero(t))
            else:
                out.append(t)
        elif isinstance(k, tuple):
            out.append(builtins.slice(*k))
        else:
            out.append(k)
    return tuple(out)


def _probe(shape, dtype):
    """A zero-byte array of `shape`, to let NumPy work out an index's result shape."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype.np), shape=shape,
                                           strides=(0,) * len(shape))


def _indexed_shape(x, key, idx_avals):
    if any(a.dtype.category == BOOL for a in idx_avals):
        return None  # depends on the mask's values
    probes = [np.zeros(a.shape, np.int64) for a in idx_avals]
    try:
        return _probe(x.shape, x.dtype)[np_key(key, probes)].shape
    except IndexError as e:
        raise IndexingError(f"index {format_key(key)} is invalid for shape {S.fmt(x.shape)}: "
                            f"{numpy_index_message(e)}") from None


def format_key(key) -> str:
    parts = []
    for k in key:
        if k == "T":
            parts.append("<tensor>")
        elif k is None:
            parts.append("None")
        elif isinstance(k, tuple):
            parts.append(":".join("" if v is None else str(v) for v in k))
        else:
            parts.append(str(k))
    return "[" + ", ".join(parts) + "]"


def _check_values(dst_shape, src):
    if dst_shape is not None and not isinstance(src, (int, float, bool)):
        try:
            S.broadcast_shapes(src.shape, dst_shape)
        except ShapeError:
            raise ShapeError(f"cannot assign a tensor of shape {S.fmt(src.shape)} "
                             f"to an indexed region of shape {S.fmt(dst_shape)}") from None


# -- basic indexing (ints, slices, None) ----------------------------------------
def _slice_name(key):
    """PyTorch names the node after the last select (int) or slice that does something."""
    for k in reversed(key):
        if isinstance(k, int):
            return "SelectBackward0"
        if isinstance(k, tuple) and k != (None, None, None):
            return "SliceBackward0"
    return "SliceBackward0"


def _slice_rule(x, key):
    shape = _indexed_shape(x, key, ())
    return AVal(shape, x.dtype)


def _slice_grad(g, in_shapes, key):
    zeros = bind(full, shape=tuple(in_shapes[0]), value=0.0, dtype=g.dtype).to(g.device)
    return bind(slice_scatter, zeros, g, key=key)


def _scatter_rule(base, src, key):
    _check_values(_indexed_shape(base, key, ()), src)
    return AVal(base.shape, base.dtype)


def _slice_scatter_impl(base, src, key):
    out = base.copy(order="K")   # base's layout, as the eager in-place write keeps it
    out[np_key(key)] = src
    return out


def _slice_impl(x, key):
    k = np_key(key)
    # Ints alone index a NumPy scalar, a copy: a trailing `...` keeps it a 0-d view of x, as
    # every other result of this view primitive is (compiled, the view step has no run_impl
    # to turn a scalar back into an array).
    return x[k] if Ellipsis in k else x[k + (Ellipsis,)]


slice = register(Primitive(
    "slice", "indexing", _slice_impl, _slice_rule, inputs=("x",),
    attrs=("key",), vjp=(_slice_grad,), grad_name=lambda a: _slice_name(a["key"]), view=True,
    jvp="linear",
    unview=lambda x, v, key: bind(slice_scatter, x, v, key=key),
    native="{0}{key}", native_when=lambda attrs: not any(k == "T" for k in attrs["key"])))

slice_scatter = register(Primitive(
    "slice_scatter", "indexing", _slice_scatter_impl, _scatter_rule, inputs=("base", "src"),
    attrs=("key",), casts=(1,), jvp="linear",
    vjp=(lambda g, key: bind(slice_scatter, g, 0.0, key=key),
         lambda g, key: g[_py_key(key)]),
    grad_name="SliceScatterBackward0"))


def _py_key(key):
    """The key back as Python index objects, for `tensor[...]` inside a VJP rule."""
    return tuple(builtins.slice(*k) if isinstance(k, tuple) else k for k in key)


# -- advanced indexing (index tensors and bool masks) ----------------------------
def _gather_rule(x, *idx, key):
    for a in idx:
        if a.dtype.category not in (BOOL, 1):
            raise IndexingError(f"tensors used as indices must be long or bool, got {a.dtype.name}")
    return AVal(_indexed_shape(x, key, idx), x.dtype)


def _gather_grad(g, index, xs, in_shapes, key):
    if index != 0:
        return None
    zeros = bind(full, shape=tuple(in_shapes[0]), value=0.0, dtype=g.dtype).to(g.device)
    return bind(index_put, zeros, g, *xs[1:], key=key, accumulate=True)


def _put_rule(base, values, *idx, key, accumulate):
    _gather_rule(base, *idx, key=key)
    return AVal(base.shape, base.dtype)


def _put_impl(base, values, *idx, key, accumulate):
    # The copy keeps base's layout (a gather's result is often column-major): eagerly
    # `c[mask] = v` writes into c's own buffer, and a later reduction of the value sums in
    # memory order, so a row-major copy here made the traced step differ by an ulp.
    out = base.copy(order="K")
    _put_into(out, values, *idx, key=key, accumulate=accumulate)
    return out


def _put_into(out, values, *idx, key, accumulate):
    """index_put written into `out` itself: the eager `x[mask] = v` when no autograd records."""
    k = np_key(key, idx, masks_as_indices=accumulate)
    if not accumulate and _whole_mask(out, k) and getattr(values, "ndim", 0) == 0:
        np.putmask(out, k[0], values)   # x[mask] = scalar: the same writes, faster than setitem
        return
    try:
        if accumulate:
            if not even_index.add_at(out, key, idx, values):
                np.add.at(out, k, values)
        else:
            out[k] = values
    except ValueError as e:
        raise ShapeError(f"cannot assign values of shape {S.fmt(np.shape(values))}: {e}") from None


def _whole_mask(out, k):
    """Whether NumPy key k is one bool mask of out's own shape."""
    return len(k) == 1 and getattr(k[0], "dtype", None) == np.bool_ and k[0].shape == out.shape


def _put_grad(g, index, xs, key, accumulate):
    if index == 0:
        return g if accumulate else bind(index_put, g, 0.0, *xs[2:], key=key, accumulate=False)
    if index == 1:
        return bind(gather, g, *xs[2:], key=key)
    return None


def _gather_impl(x, *idx, key):
    if "G" in key:
        _check_nonnegative(x.shape, key, idx)
    windows = even_index.view(x, key, idx)   # a convolution's or pooling's windows
    if windows is not None:
        return windows.copy()
    out = x[np_key(key, idx)]
    # Always a new array; row-major, as PyTorch's index result (NumPy's `x[:, idx]` is
    # column-major), so that `view` accepts what PyTorch's would.
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def _check_nonnegative(shape, key, idx):
    """Raise for a negative index at a "G" position (NumPy raises for the too-large ones)."""
    dim = 0
    it = iter(idx)
    for k in key:
        if k is None:
            continue
        if k == "T" or k == "G":
            t = next(it)
            if k == "G" and t.size and t.min() < 0:
                raise IndexingError(f"index {int(t.min())} is out of bounds for dimension {dim} "
                                 f"with size {shape[dim]}")
        dim += 1


# -- native forms (codegen/indexing.py): index tensors over the leading dimensions ----------
MAX_NATIVE_INDICES = 3


def _native_indices(x, idx, key):
    """Whether codegen/indexing.py's take<k>/put<k> can run x[key] with index tensors idx: 1-3
    integer index tensors of one shape (no masks, slices or broadcasting between them)."""
    if not 1 <= len(key) <= min(MAX_NATIVE_INDICES, x.ndim) or len(idx) != len(key):
        return False
    if any(k not in ("T", "G") for k in key) or not all(hasattr(a, "shape") for a in idx):
        return False
    return all(a.dtype.category == INT and a.shape == idx[0].shape for a in idx)


def _native_take(node):
    x, *idx = node.inputs
    key = node.attrs["key"]
    if not _native_indices(x, idx, key):
        return None
    refuse_negative = ", ".join(str(k == "G") for k in key)
    args = "".join(f"{{{i + 1}}}, " for i in range(len(idx)))
    return f"take{len(key)}({{out}}, {{0}}, {args}{{status}}, {refuse_negative})"


def _native_put(node):
    base, values, *idx = node.inputs
    key = node.attrs["key"]
    if not _native_indices(base, idx, key) or not hasattr(values, "shape") \
            or values.dtype is not base.dtype \
            or tuple(values.shape) != tuple(idx[0].shape) + tuple(base.shape[len(key):]):
        return None
    args = "".join(f"{{{i + 2}}}, " for i in range(len(idx)))
    return f"put{len(key)}({{out}}, {{0}}, {{1}}, {args}{{status}}, {node.attrs['accumulate']})"


def _always(node):
    """native_first where the native form beats the impl at every size: a gather (the impl's
    index checks and forms, `G`'s sign test and even_index's windows, cost ~4-13 us a call:
    cross_entropy's pick of 256 elements 1.1 us native against 14.4 by the impl, an
    embedding's 16x16 rows 1.4 against 5.0), an integer arange (~0.5 us against ~3)."""
    return True


gather = register(Primitive(
    "gather", "indexing", _gather_impl, _gather_rule,
    inputs=("xs",), attrs=("key",), vjp=_gather_grad, grad_name="IndexBackward0", variadic=True,
    jvp="linear",
    native=_native_take, native_first=_always))

def _adds(node):
    """A scatter-add (accumulate): of rows, an embedding's gradient, which np.add.at adds at
    ~0.4 us a row (~100 us for a 16x16 batch) and the native loop in ~1 us; of elements
    (cross_entropy's pick, backward), 3.7 us native against 17.3 by the impl for 256 into
    256x65 (np.add.at's fast path, behind the impl's checks)."""
    return node.attrs["accumulate"]


index_put = register(Primitive(
    "index_put", "indexing", _put_impl, _put_rule, inputs=("xs",), attrs=("key", "accumulate"),
    vjp=_put_grad, grad_name="IndexPutBackward0", variadic=True, casts=(1,), into=_put_into,
    jvp="linear",
    native=_native_put, native_first=_adds))


# -- index_reduce: scatter_reduce's amax / amin ------------------------------------------------
# out = base, then each value combined into the position its index names by maximum (or
# minimum), repeated positions combining all of theirs (np.maximum.at). The gradient is
# PyTorch's for scatter_reduce: to every operand equal to the result, shared evenly among the
# ties (the base's element counting as one of them).
_REDUCE_UFUNCS = {"amax": np.maximum, "amin": np.minimum}


def _reduce_rule(base, values, *idx, key, reduce):
    if reduce not in _REDUCE_UFUNCS:
        raise ShapeError(f"reduce must be one of {sorted(_REDUCE_UFUNCS)}, got {reduce!r}")
    return _put_rule(base, values, *idx, key=key, accumulate=False)


def _reduce_impl(base, values, *idx, key, reduce):
    out = base.copy(order="K")
    k = np_key(key, idx, masks_as_indices=True)
    try:
        _REDUCE_UFUNCS[reduce].at(out, k, values)
    except ValueError as e:
        raise ShapeError(f"cannot combine values of shape {S.fmt(np.shape(values))}: {e}") from None
    return out


def _reduce_grad(g, index, xs, out, key, reduce):
    base, values, idx = xs[0], xs[1], xs[2:]
    picked = bind(gather, out, *idx, key=key)
    base_hit = (base == out).to(g.dtype)
    values_hit = (values == picked).to(g.dtype)
    ties = bind(index_put, base_hit, values_hit, *idx, key=key, accumulate=True)
    share = g / ties        # (a NaN result equals no operand: 0 ties, a NaN gradient, PyTorch's)
    if index == 0:
        return share * base_hit
    if index == 1:
        return bind(gather, share, *idx, key=key) * values_hit
    return None


index_reduce = register(Primitive(
    "index_reduce", "indexing", _reduce_impl, _reduce_rule, inputs=("xs",),
    attrs=("key", "reduce"), vjp=_reduce_grad, grad_name="ScatterReduceBackward0",
    variadic=True, casts=(1,)))


# -- creation ------------------------------------------------------------------
def _full_rule(shape, value, dtype):
    if any(d < 0 for d in shape):
        raise ShapeError(f"negative dimension in shape {S.fmt(shape)}")
    return AVal(tuple(shape), dtype)


def _arange_rule(start, stop, step, dtype):
    if step == 0:
        raise ShapeError("arange step must be nonzero")
    if (step > 0 and stop < start) or (step < 0 and stop > start):   # PyTorch raises, not []
        raise ShapeError("upper bound and lower bound inconsistent with step sign")
    return AVal((_arange_count(start, stop, step, dtype),), dtype)


def _arange_count(start, stop, step, dtype) -> int:
    """PyTorch's length: ceil((stop - start) / step) in float64, except for int64, whose
    bounds and step are truncated to integers first (arange(0, 5, 2.5, dtype=int64) has
    3 elements, [0, 2, 4]; with int32 it has 2)."""
    if dtype.np == np.int64 and not _all_ints(start, stop, step):
        s, e, st = int(start), int(stop), int(step)
        if st == 0:
            raise ShapeError("arange step must be nonzero")
        return max(0, (e - s + st - (1 if st > 0 else -1)) // st)
    return max(0, int(np.ceil((stop - start) / step)))


def _all_ints(*values) -> bool:
    return all(isinstance(v, (int, np.integer)) for v in values)


full = register(Primitive(
    "full", "creation", lambda shape, value, dtype: np.full(shape, value, dtype.np), _full_rule,
    inputs=(), attrs=("shape", "value", "dtype"), lowering="fill"))

def _native_arange(node):
    """Integer aranges only: NumPy's float arange is not start + i * step to the last bit.
    The length is the output's, so the program's text holds no size."""
    a = node.attrs
    if a["dtype"].category != INT or not all(isinstance(a[k], int) for k in ("start", "step")):
        return None
    return f"arange_into({{out}}, {a['start']}, {a['step']})"


def _arange(start, stop, step, dtype):
    """out[i] = start + i * step, as PyTorch defines it: a float arange is computed in float64
    and rounded once. (NumPy's float32 arange adds a float32 step difference, so its error
    grows with i: arange(-3, 3.1, 0.1)[30] was -2.9e-06, and [31] 0.099997.) An integer
    arange with float bounds or step follows PyTorch's integer kernel (_arange_count)."""
    n = _arange_count(start, stop, step, dtype)
    if dtype.category == INT:
        if _all_ints(start, stop, step):
            return np.arange(start, stop, step, dtype.np)
        # (PyTorch's integer kernel: start and step truncated to integers, then stepped)
        return (int(start) + int(step) * np.arange(n, dtype=np.int64)).astype(dtype.np)
    return (start + step * np.arange(n, dtype=np.float64)).astype(dtype.np)


arange = register(Primitive(
    "arange", "creation", _arange,
    _arange_rule, inputs=(), attrs=("start", "stop", "step", "dtype"), native=_native_arange,
    native_first=_always))


# -- windows whose start is a runtime value -------------------------------------------------
# `x_train[i * bs:(i + 1) * bs]` with the loop variable `i` read per call (tracer/symbolic.py):
# the start is a 0-dim int64 graph value, the window's length is static, as in XLA's
# DynamicSlice / DynamicUpdateSlice. Eagerly these never run from user code (a slice there has
# concrete bounds); the trace guards the length for each call's bounds (symbolic.WindowGuard).
def window_start(start, n, size, step):
    """Where a window of `size` elements `step` apart begins along a dimension of n when the
    Python slice begins at `start`: Python's reading (negative counts from the end, then
    clamped to [0, n]), then clamped so that the window fits, as XLA clamps. For the calls a
    trace serves (its guard holds the length) the second clamp changes nothing: it only keeps
    every read in bounds."""
    if start < 0:
        start += n
    span = (size - 1) * step + 1 if size else 0
    return min(max(start, 0), n - span)   # (Numba compiles this too: codegen/indexing.py)


def _window(axis, start, size, step):
    stop = start + (size - 1) * step + 1 if size else start
    return (builtins.slice(None),) * axis + (builtins.slice(start, stop, step),)


def _check_start(start):
    if start.shape != () or start.dtype.category != INT:
        raise ShapeError(f"a window's start must be a 0-dim integer tensor, got "
                         f"{start.dtype.name}{S.fmt(start.shape)}")


def _dynamic_slice_rule(x, start, axis, size, step):
    _check_start(start)
    if not 0 <= axis < len(x.shape) or not 0 <= size <= x.shape[axis] or step < 1:
        raise ShapeError(f"a window of {size} elements (step {step}) along dimension {axis} "
                         f"does not fit shape {S.fmt(x.shape)}")
    return AVal(x.shape[:axis] + (size,) + x.shape[axis + 1:], x.dtype)


def _dynamic_slice_impl(x, start, axis, size, step):
    s = window_start(int(start), x.shape[axis], size, step)
    return x[_window(axis, s, size, step)].copy()   # a copy: the IR has no dynamic views


def _dynamic_slice_grad(g, start, in_shapes, axis, step):
    zeros = bind(full, shape=tuple(in_shapes[0]), value=0.0, dtype=g.dtype).to(g.device)
    return bind(dynamic_update_slice, zeros, g, start, axis=axis, step=step)


def _dynamic_update_rule(base, update, start, axis, step):
    _check_start(start)
    fits = (len(update.shape) == len(base.shape) and 0 <= axis < len(base.shape) and step >= 1
            and update.shape[axis] <= base.shape[axis]
            and all(u == b for d, (u, b) in enumerate(zip(update.shape, base.shape)) if d != axis))
    if not fits:
        raise ShapeError(f"cannot write a window of shape {S.fmt(update.shape)} (step {step}) "
                         f"along dimension {axis} of shape {S.fmt(base.shape)}")
    return AVal(base.shape, base.dtype)


def _dynamic_update_impl(base, update, start, axis, step):
    out = base.copy(order="K")
    size = update.shape[axis]
    s = window_start(int(start), base.shape[axis], size, step)
    out[_window(axis, s, size, step)] = update
    return out


def _dynamic_update_base_grad(g, start, in_shapes, axis, step):
    zeros = bind(full, shape=tuple(in_shapes[1]), value=0.0, dtype=g.dtype).to(g.device)
    return bind(dynamic_update_slice, g, zeros, start, axis=axis, step=step)


def _dynamic_update_grad(g, start, in_shapes, axis, step):
    return bind(dynamic_slice, g, start, axis=axis, size=in_shapes[1][axis], step=step)


def _native_update(node):
    base, update, _ = node.inputs
    if not hasattr(update, "shape") or update.dtype is not base.dtype:
        return None   # a cast first: the impl's
    return "put_window({out}, {0}, {1}, {2}, {axis}, {step})"


dynamic_slice = register(Primitive(
    "dynamic_slice", "indexing", _dynamic_slice_impl, _dynamic_slice_rule,
    inputs=("x", "start"), attrs=("axis", "size", "step"),
    vjp=(_dynamic_slice_grad, None), grad_name="SliceBackward0", jvp="linear",
    native="take_window({out}, {0}, {1}, {axis}, {step})"))

dynamic_update_slice = register(Primitive(
    "dynamic_update_slice", "indexing", _dynamic_update_impl, _dynamic_update_rule,
    inputs=("base", "update", "start"), attrs=("axis", "step"), casts=(1,),
    vjp=(_dynamic_update_base_grad, _dynamic_update_grad, None), jvp="linear",
    grad_name="SliceScatterBackward0", native=_native_update))
