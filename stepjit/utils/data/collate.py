"""default_collate / default_convert: samples -> one batch, with PyTorch's rules.

Tensors are stacked along a new first dimension; NumPy arrays and scalars become
tensors and are stacked; Python floats become a float64 tensor, ints an int64
tensor, bools a bool tensor; strings stay a list; dicts, namedtuples and lists are
collated field by field; tuples become lists of collated fields (as PyTorch does).
"""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ...ir.types import float64
from ...ops.creation import as_tensor, tensor
from ...ops.shape import stack
from ...tensor import Tensor

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def default_collate(batch):
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray) or (isinstance(elem, np.generic) and
                                        not isinstance(elem, (np.str_, np.bytes_))):
        if elem.dtype.kind in "SaUO":
            raise TypeError(_ERR.format(elem.dtype))
        if isinstance(elem, np.ndarray):
            return default_collate([as_tensor(b) for b in batch])
        return as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(list(batch))
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):
        return tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(elem, batch)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequence(elem, batch)
    raise TypeError(_ERR.format(type(elem)))


def _collate_mapping(elem, batch):
    return _same_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})


def _same_mapping(elem, fields):
    """`fields` in a mapping of elem's type where that type can be rebuilt, else a dict."""
    if isinstance(elem, collections.abc.MutableMapping):
        try:
            out = copy.copy(elem)
            out.update(fields)
            return out
        except TypeError:
            return fields
    try:
        return type(elem)(fields)
    except TypeError:
        return fields


def _collate_sequence(elem, batch):
    size = len(elem)
    if any(len(b) != size for b in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    fields = [default_collate(list(s)) for s in zip(*batch)]
    if isinstance(elem, tuple):
        return fields
    if isinstance(elem, collections.abc.MutableSequence):
        try:
            out = copy.copy(elem)
            out[:] = fields
            return out
        except TypeError:
            return fields
    try:
        return type(elem)(fields)
    except TypeError:
        return fields


def default_convert(data):
    """What a DataLoader without automatic batching applies: arrays to tensors, recursively."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) or (isinstance(data, np.generic) and
                                        not isinstance(data, (np.str_, np.bytes_))):
        return data if data.dtype.kind in "SaUO" else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data

