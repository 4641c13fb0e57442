"""Indexing: Python keys turned into the indexing primitives' plain-data keys.

Ints, slices, None and Ellipsis give a `slice` (a view eagerly); any index
tensor, list or bool mask gives a `gather`. Writes (`x[k] = v`) are the
matching functional write followed by an in-place store.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import MODE, apply, concrete, setitem_fast, windows
from ..errors import DTypeError, IndexingError, ShapeError, op_error, user_location
from ..ir import primitives as P
import warnings

from ..ir.types import bool_, uint8
from ..tensor import Tensor
from .creation import _array_argument, arange, tensor
from .shape import _alias, _dim


def _as_index_tensor(k):
    if isinstance(k, Tensor):
        return k
    return tensor(np.asarray(k))


def _inputs_of(key):
    """The key with each NumPy array a compiled step takes as an input (tracer/arrays.py: an
    argument, a draw, `buffer[np.random.randint(0, n, b)]`) as that input tensor, which the
    trace reads on every call, where NumPy's reading of it would be this call's constant."""
    if _array_argument(key):
        return key.as_tensor()
    if type(key) is tuple and any(_array_argument(k) for k in key):
        return tuple(k.as_tensor() if _array_argument(k) else k for k in key)
    return key


def normalize_key(ndim, key):
    """(prim key, index tensors) for a Python index expression on a tensor of `ndim` dims."""
    key = _inputs_of(key)
    if isinstance(key, Tensor) and (max(1, key.ndim) if key.dtype is bool_ else 1) <= ndim:
        return ("T",), [key]   # one index tensor or mask (`x[x < 0]`): what the loop makes of it
    if not isinstance(key, tuple):
        key = (key,)
    consumed = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor):
            consumed += max(1, k.ndim) if k.dtype is bool_ else 1
        elif isinstance(k, (list, np.ndarray)) and np.asarray(k).dtype == np.bool_:
            consumed += max(1, np.asarray(k).ndim)
        else:
            consumed += 1
    if consumed > ndim == 0 and len(key) == 1:
        _refuse_on_scalar(key[0])
    if consumed > ndim:
        raise IndexingError(f"too many indices for tensor of dimension {ndim}")
    out, tensors = [], []
    for k in key:
        if k is Ellipsis:
            out.extend([(None, None, None)] * (ndim - consumed))
            consumed = ndim
        elif k is None:
            out.append(None)
        elif isinstance(k, slice):
            out.append((_int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step)))
        elif isinstance(k, bool):
            out.append("T")
            tensors.append(_as_index_tensor(np.asarray(k)))
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, Tensor) and k.ndim == 0 and k.dtype.category == 1:
            out.append("T")
            tensors.append(k)
        else:
            out.append("T")
            tensors.append(_as_index_tensor(k))
    return tuple(out), tensors


def _refuse_on_scalar(k):
    """PyTorch's words for one int or one slice on a 0-d tensor (`loss.data[0]`, the
    pre-0.4 spelling of loss.item(), is the usual cause)."""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        raise IndexingError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if isinstance(k, slice):
        raise IndexingError("slice() cannot be applied to a 0-dim tensor.")


def _int_or_none(v):
    if v is None:
        return None
    return int(v)


def _byte_masks(key):
    """uint8 index tensors are masks, as PyTorch still reads them (with its deprecation
    warning): `x[m.byte()]` selects where m holds. Read as integer positions they would
    silently gather rows 0 and 1 instead."""
    keys = (key,) if isinstance(key, Tensor) else key if isinstance(key, tuple) else ()
    if not any(isinstance(k, Tensor) and k.dtype is uint8 for k in keys):
        return key
    warnings.warn("indexing with dtype stepjit.uint8 is now deprecated, please use a dtype "
                  "stepjit.bool instead.", UserWarning, stacklevel=4)
    keys = tuple(k.bool() if isinstance(k, Tensor) and k.dtype is uint8 else k for k in keys)
    return keys[0] if isinstance(key, Tensor) else keys


def getitem(input, key):
    key = _byte_masks(key)
    input, key = windows(input, key)   # slice bounds read per call, while tracing
    key = _masks_read(key)
    try:
        pkey, tensors = normalize_key(input.ndim, key)
    except ShapeError as e:
        raise op_error(e, "getitem") from None
    if tensors:
        return apply(P.gather, input, *tensors, key=pkey)
    if all(k == (None, None, None) for k in pkey) and len(pkey) <= input.ndim:
        return _alias(input)
    return apply(P.slice, input, key=pkey)


def setitem(input, key, value):
    key = _byte_masks(key)
    if isinstance(key, Tensor) and setitem_fast(input, key, value):
        return   # x[mask] = number, nothing to record
    value = _leading_ones_dropped(value)
    if isinstance(value, Tensor) and value.ndim:
        key = _masks_read(key)      # the value's rows must match the mask's count
    try:
        pkey, tensors = normalize_key(input.ndim, key)
    except ShapeError as e:
        raise op_error(e, "setitem") from None
    if tensors:
        input._inplace(P.index_put, value, *tensors, op="setitem", key=pkey, accumulate=False)
    else:
        input._inplace(P.slice_scatter, value, op="setitem", key=pkey)


def _masks_read(key):
    """While tracing, each bool mask of `key` becomes the index tensors of its True places,
    read as nonzero(mask, as_tuple=True) reads them: x[mask] then has a known shape, and, as
    for nonzero(), the values go to Python, so the step runs its Python on every call
    (programs reused by shape). Eagerly, and for keys without masks, the key as it is."""
    if MODE.tracer is None:
        return key
    if _is_mask(key):
        return nonzero(key, as_tuple=True)
    if isinstance(key, tuple) and any(_is_mask(k) for k in key):
        return tuple(i for k in key for i in (nonzero(k, as_tuple=True) if _is_mask(k) else (k,)))
    return key


def _is_mask(k):
    return isinstance(k, Tensor) and k.dtype is bool_ and k.ndim > 0


def _leading_ones_dropped(value):
    """PyTorch drops a value's leading size-1 dims before broadcasting it into x[key], so a
    value with more dims than the place it fills fits: `preds[i] = model(window)` with the
    model's (1, 1) output, `x[2:4] = row` with a (1, 1, 2) row."""
    if not isinstance(value, Tensor) or not value.ndim or value.shape[0] != 1:
        return value
    shape = list(value.shape)
    while shape and shape[0] == 1:
        shape.pop(0)
    return value.reshape(shape)


def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: along `dim` (negative counts from the end), or over the flattened
    input and indices when dim is None."""
    if dim is None:
        return _take_along(input.reshape(-1), indices.reshape(-1), 0)
    return _take_along(input, indices, _dim(dim, input.ndim, "take_along_dim"))


def _take_along(input, indices, dim, sizes=None):
    """out[..., i, ...] = input[..., indices[..., i, ...], ...] along `dim` (shapes broadcast);
    `sizes`: how far along each other dimension to read (gather: the index's sizes)."""
    nd = input.ndim
    sizes = tuple(input.shape) if sizes is None else sizes
    grids = []
    for d in range(nd):
        if d == dim:
            grids.append(indices)
        else:
            shape = [1] * nd
            shape[d] = sizes[d]
            grids.append(arange(sizes[d]).reshape(shape))
    # "G": indices[...] read as torch.gather reads them (a negative one is out of bounds);
    # the arange grids are never negative.
    return apply(P.gather, input, *grids, key=("G",) * nd)


def gather(input, dim, index, *, sparse_grad=False):
    """(sparse_grad: PyTorch's sparse gradient layout; stepjit's gradient is dense, the same
    values.)"""
    d = _dim(dim, input.ndim, "gather")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise op_error(ShapeError("Index tensor must have the same number of dimensions as "
                                  "input tensor"), "gather")
    sizes = tuple(index.shape) if index.ndim == input.ndim else tuple(input.shape)
    bad = [i for i, (n, m) in enumerate(zip(sizes, input.shape)) if i != d and n > m]
    if bad:
        raise op_error(ShapeError(f"Size does not match at dimension {bad[0]} expected index "
                                  f"{list(index.shape)} to be no larger than self "
                                  f"{list(input.shape)} apart from dimension {d}"), "gather")
    return _take_along(input, index, d, sizes)


def index_put(input, indices, values, accumulate=False):
    """input with input[indices] = values (or += with accumulate), as a new tensor."""
    return index_put_(input.clone(), indices, values, accumulate)


def index_put_(input, indices, values, accumulate=False):
    """input[indices] = values in place, indices a tuple of index tensors (or None for a whole
    dimension); accumulate=True adds, repeated indices adding up (PyTorch's index_put_)."""
    key = tuple(slice(None) if i is None else i for i in indices)
    if not accumulate:
        setitem(input, key, values)
        return input
    try:
        pkey, tensors = normalize_key(input.ndim, key)
    except ShapeError as e:
        raise op_error(e, "index_put_") from None
    return input._inplace(P.index_put, values, *tensors, op="index_put_", key=pkey,
                          accumulate=True)


def index_select(input, dim, index):
    d = _dim(dim, input.ndim, "index_select")
    return apply(P.gather, input, index, key=((None, None, None),) * d + ("T",))


def nonzero(input, *, as_tuple=False):
    idx = np.nonzero(concrete(input, "nonzero"))
    if as_tuple:
        return tuple(tensor(i) for i in idx)
    return tensor(np.stack(idx, axis=1) if idx else np.zeros((0, 0), np.int64))


def masked_select(input, mask):
    if isinstance(mask, Tensor) and mask.dtype is not bool_:
        # PyTorch's words; read as positions, a uint8 mask would gather whole rows silently
        raise DTypeError(f"masked_select: expected BoolTensor for mask (got {mask.dtype.name} "
                         f"{list(mask.shape)}, at {user_location()})")
    return getitem(input.expand_as(mask) if mask.ndim > input.ndim else input, mask)
