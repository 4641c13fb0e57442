"""embedding_bag: sums, means or maxima of bags of embedding rows, without the (bags, length,
dim) intermediate.

Written as a decomposition, so its gradient is the rules of the primitives it uses:
- each looked-up position's bag is `searchsorted(offsets, position, right=True) - 1` (a
  comparison and a count, traced like any elementwise work; no offset value is read, so a
  compiled step does not guard on the offsets);
- rows are `weight[input]` (gradient: a scatter-add into weight's rows);
- sum and mean add rows into their bags with index_add (mean divides by the bag's count of
  positions that are not padding_idx); max is scatter_reduce's amax, whose gradient reaches
  the rows equal to the maximum. Empty bags give zeros, as PyTorch's.
Positions equal to padding_idx, and with include_last_offset those past the last offset,
belong to no bag. Checks that read index or offset values (in range, offsets[0] == 0,
non-decreasing) run eagerly; a compiled step skips them like scatter's bounds check.
"""
from __future__ import annotations

import math

from ...dispatch import MODE
from ...errors import DTypeError, ShapeError, op_error
from ...ir.primitives.shapes import fmt
from ...ir.types import INT, int64
from ...ops.creation import arange, full, zeros
from ...ops.elementwise import where
from ...ops.reduce import _rename
from ...ops.scatter import index_add, scatter_reduce
from ...ops.search import searchsorted
from .norm import _renorm_rows

OP = "embedding_bag"
MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    _check_arguments(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq,
                     sparse)
    if input.ndim == 2:
        input, offsets, per_sample_weights = _fixed_length_bags(input, offsets,
                                                                per_sample_weights)
        include_last_offset = False
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    index = input.to(int64)
    offsets = offsets.to(int64)
    bags = offsets.shape[0] - (1 if include_last_offset else 0)
    if MODE.tracer is None:
        _check_values(index, offsets, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, index, max_norm, norm_type)
    bag = searchsorted(offsets, arange(index.shape[0]), right=True) - 1
    keep = bag < bags
    if padding_idx is not None:
        keep = keep & (index != padding_idx)
    bag = where(keep, bag, 0)               # (positions in no bag add nothing anywhere)
    rows = weight[index]
    if mode == "max":
        out = _bag_max(rows, bag, keep, bags)
    else:
        out = _bag_sum(rows, bag, keep, bags, per_sample_weights, mean=mode == "mean")
    return _rename(out, "EmbeddingBagBackward0")


def _bag_sum(rows, bag, keep, bags, per_sample_weights, mean):
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    rows = where(keep.unsqueeze(-1), rows, 0.0)
    total = index_add(zeros(bags, rows.shape[1], dtype=rows.dtype), 0, bag, rows)
    if not mean:
        return total
    count = index_add(zeros(bags, dtype=rows.dtype), 0, bag, keep.to(rows.dtype))
    return total / count.clamp(min=1).unsqueeze(-1)


def _bag_max(rows, bag, keep, bags):
    rows = where(keep.unsqueeze(-1), rows, -math.inf)
    index = bag.unsqueeze(-1).expand(*rows.shape)
    out = scatter_reduce(full((bags, rows.shape[1]), -math.inf, dtype=rows.dtype), 0, index,
                         rows, "amax")
    return where(out == -math.inf, 0.0, out)     # (empty bags)


def _fixed_length_bags(input, offsets, per_sample_weights):
    if offsets is not None:
        raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a "
                         "mini-batch of fixed length sequences. However, found offsets of type "
                         f"{type(offsets)}")
    length = input.shape[1]
    offsets = arange(input.shape[0], dtype=int64) * length
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.reshape(-1)
    return input.reshape(-1), offsets, per_sample_weights


def _check_arguments(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq,
                     sparse):
    if input.dtype.category != INT:
        raise op_error(DTypeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.dtype.name} (indices of shape "
            f"{fmt(input.shape)})"), OP)
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({fmt(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({fmt(input.shape)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if offsets.dtype.category != INT:
            raise op_error(DTypeError(f"Expected offsets to be an integer tensor, got "
                                      f"{offsets.dtype.name}"), OP)
    elif input.ndim != 2:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding_bag(scale_grad_by_freq=True) is not supported by "
                                  "stepjit")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")


def _check_values(index, offsets, rows):
    """PyTorch's checks on the values, before anything is looked up."""
    n = index.shape[0]
    if index.numel():
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < 0 or hi >= rows:
            bad = lo if lo < 0 else hi
            at = int((index == bad).to(int64).argmax().item())
            raise op_error(ShapeError(f"Index {at} of input takes value {bad} which is not in "
                                      f"the valid range [0, {rows})"), OP)
    if offsets.numel():
        first, last = int(offsets[0].item()), int(offsets[-1].item())
        if first != 0:
            raise op_error(ShapeError(
                f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                f"start from position 0. However, got {first}"), OP)
        if last > n:
            raise op_error(ShapeError(f"offsets[-1] can not be greater than input's length {n} "
                                      f"but got offsets[-1] of {last}"), OP)
        if offsets.numel() > 1 and bool((offsets[1:] < offsets[:-1]).any().item()):
            raise op_error(ShapeError(f"offsets must be non-decreasing, got "
                                      f"{offsets.tolist()}"), OP)
