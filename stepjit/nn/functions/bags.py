"""F.embedding_bag: sums, means or maxima of embedding rows over bags, as a lookup
(F.embedding) followed by a scatter into one row per bag (index_add for sum and mean, the
index_reduce of scatter_reduce for max), so the gradient is those ops' rules: each looked-up
row gets its bag's gradient (times its weight, or divided by the bag's size).

Bags are the rows of a 2-D input, or the runs of a 1-D input that start at `offsets`; each
position's bag is found by comparing it with the offsets (searchsorted). Entries equal to
padding_idx take no part (a mean divides by the bag's other entries), and an empty bag gives
zeros, as PyTorch's.
"""
from __future__ import annotations

import math

from ...errors import ShapeError, op_error
from ...ops.creation import arange, zeros
from ...ops.elementwise import where
from ...ops.scatter import scatter_reduce
from ...ops.search import searchsorted
from ...tensor import Tensor
from .norm import embedding

MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    if mode not in MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}').")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    flat, bag, valid, n_bags = _bags(input, offsets, include_last_offset)
    if padding_idx is not None:
        padding_idx = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
        valid = valid.logical_and(flat != padding_idx)
    rows = embedding(flat, weight, max_norm=max_norm, norm_type=norm_type,
                     scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    keep = valid.unsqueeze(1)
    bag = where(valid, bag, 0)
    count = zeros(n_bags, dtype=rows.dtype, device=rows.device).index_add(0, bag, valid.to(
        rows.dtype))
    base = zeros((n_bags, weight.shape[1]), dtype=rows.dtype, device=rows.device)
    if mode == "max":
        index = bag.unsqueeze(1).expand(bag.shape[0], weight.shape[1])
        top = scatter_reduce(base, 0, index, where(keep, rows, -math.inf), "amax",
                             include_self=False)
        return where((count > 0).unsqueeze(1), top, 0.0)
    total = base.index_add(0, bag, where(keep, rows, 0.0))
    if mode == "sum":
        return total
    return total / count.clamp(min=1).unsqueeze(1)


def _bags(input, offsets, include_last_offset):
    """(flat indices, each one's bag, whether it belongs to a bag, the number of bags)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets).__name__}")
        n_bags, length = input.shape
        bag = arange(n_bags * length, device=input.device) // max(length, 1)
        return input.reshape(-1), bag, bag >= 0, n_bags
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if not isinstance(offsets, Tensor):
        raise ValueError(f"offsets has to be a 1D Tensor but got {type(offsets).__name__}")
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if include_last_offset:
        # The last offset closes the last bag; PyTorch's bag then runs to the input's end.
        if offsets.shape[0] < 1:
            raise op_error(ShapeError("embedding_bag: include_last_offset needs at least one "
                                      "offset"), "embedding_bag")
        offsets = offsets[:-1]
    positions = arange(input.shape[0], device=input.device)
    bag = searchsorted(offsets.to(positions.dtype), positions, right=True) - 1
    return input, bag, bag >= 0, offsets.shape[0]
