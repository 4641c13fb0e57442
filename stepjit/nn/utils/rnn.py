"""nn.utils.rnn: variable-length sequences padded into one tensor, or packed.

A PackedSequence has PyTorch's layout, so code reading its fields sees the same numbers:
`data` holds the valid steps time-major (all sequences' step 0, then step 1 of those at least
2 long, ...) in order of decreasing length; `batch_sizes[t]` is how many sequences have a
step t; `sorted_indices` maps that order to the batch (None when the batch came sorted) and
`unsorted_indices` back. The recurrent layers take one (nn/modules/rnn.py) and run the padded
batch with each sequence's state held after its last step, which is what running the packed
steps computes.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...ops.creation import full, tensor
from ...ops.shape import cat, stack
from ...tensor import Tensor


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Each (L_i, *) sequence padded to the longest L: (L, N, *) or (N, L, *)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        if extra:
            pad = full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                       device=s.device)
            parts = [s, pad] if padding_side == "right" else [pad, s]
            s = cat(parts, 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes,
                          self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _invert(perm):
    inverse = np.empty(len(perm), dtype=np.int64)
    inverse[np.asarray(perm.tolist())] = np.arange(len(perm))
    return tensor(inverse)


def _lengths(lengths):
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [int(v) for v in values]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """input (T, B, *) (or (B, T, *)) with each sequence's length: the packed valid steps."""
    lengths = _lengths(lengths)
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = list(range(len(lengths))), None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])   # stable, as PyTorch's
        sorted_indices = tensor(order)
    if not lengths or min(lengths) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    x = input.transpose(0, 1) if batch_first else input
    if max(lengths) > x.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length ({max(lengths)}) is longer than "
                           f"the sequences ({x.shape[0]} steps)")
    x = x.index_select(1, tensor(order))
    sizes = [sum(1 for n in lengths if n > t) for t in range(max(lengths))]
    data = cat([x[t, :b] for t, b in enumerate(sizes)], 0)
    return PackedSequence(data, tensor(sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded (T, B, *) (or (B, T, *)) tensor and the lengths, in the batch's order."""
    data, sizes = sequence.data, sequence.batch_sizes.tolist()
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence ({steps}), but got total_length={total_length}")
        steps = total_length
    batch = sizes[0]
    rows, start = [], 0
    for t in range(steps):
        b = sizes[t] if t < len(sizes) else 0
        row = data[start:start + b]
        start += b
        if b < batch:
            pad = full((batch - b,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                       device=data.device)
            row = cat([row, pad], 0)
        rows.append(row)
    padded = stack(rows, 0)
    lengths = np.array([sum(1 for b in sizes if b > i) for i in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        padded = padded.index_select(1, unsorted)
        lengths = lengths[np.asarray(unsorted.tolist())]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """A list of (L_i, *) sequences, packed."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :n] for i, n in enumerate(lengths.tolist())]


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :n] for i, n in enumerate(_lengths(lengths))]
