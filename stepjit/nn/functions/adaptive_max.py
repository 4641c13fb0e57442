"""Adaptive max pooling that also returns where each maximum came from (return_indices=True,
F.adaptive_max_pool{1,2,3}d_with_indices), for 1-3 spatial dimensions.

Output cell i of a dimension of size n pools PyTorch's window floor(i n / out) ..
ceil((i + 1) n / out). The windows differ in length, so each is padded to the longest and
the padding masked with -inf; all windows are read with one gather of the flattened spatial
axes, from positions computed from the shapes alone (NumPy):

    cand[N, C, cell, j] = x_flat[N, C, pos[cell, j]]      (-inf where j is padding)
    index = pos[cell, argmax_j cand]                       (the first maximum, as PyTorch)
    value = x_flat.gather(2, index)

so the gradient is gather's: each output's gradient goes to the element its index names.
Indices are flat positions within each (N, C) plane, as PyTorch's.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...ops.creation import tensor


@lru_cache(maxsize=128)
def _windows(sizes, outs):
    """(cells, longest window) flat positions and validity, from the spatial sizes."""
    pos, valid, stride = np.zeros((1, 1), np.int64), np.ones((1, 1), bool), 1
    for n, out in reversed(list(zip(sizes, outs))):
        start = (np.arange(out) * n) // out
        end = -(-((np.arange(out) + 1) * n) // out)
        p = start[:, None] + np.arange((end - start).max())[None, :]
        ok = p < end[:, None]
        p = np.minimum(p, n - 1) * stride
        pos = (p[:, None, :, None] + pos[None, :, None, :]).reshape(out * pos.shape[0], -1)
        valid = (ok[:, None, :, None] & valid[None, :, None, :]).reshape(pos.shape)
        stride *= n
    return pos, valid


def adaptive_max_with_indices(x, output_size, unbatched):
    """(values, indices) of x, batched (N, C, *spatial); output_size an int or a tuple
    (None keeps that size)."""
    sizes = tuple(x.shape[2:])
    outs = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
    outs = outs * len(sizes) if len(outs) == 1 else outs
    outs = tuple(n if o is None else int(o) for n, o in zip(sizes, outs))
    pos, valid = _windows(sizes, outs)
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    positions = tensor(pos, device=x.device)
    cand = flat.detach()[:, :, positions.reshape(-1)].reshape(n, c, *pos.shape)
    cand = cand.masked_fill(tensor(~valid, device=x.device), float("-inf"))
    choice = cand.argmax(-1, keepdim=True)
    index = positions.expand(n, c, *pos.shape).gather(3, choice).squeeze(3)
    values = flat.gather(2, index).reshape(n, c, *outs)
    index = index.reshape(n, c, *outs)
    if unbatched:
        return values.squeeze(0), index.squeeze(0)
    return values, index
