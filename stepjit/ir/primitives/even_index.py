"""Index tensors that step evenly: a gather or an accumulating index_put as strided views.

A convolution's or a pooling's windows (nn/functions/conv.py) are one gather whose index
tensors broadcast against each other and step evenly along each of their axes: the padded
input's row kh*d + ho*s and column kw*d + wo*s. NumPy's fancy indexing reads such an index
element by element into a buffer it then has to transpose, and `np.add.at`, the gather's
gradient, adds one element at a time: in a ResNet-18 step on CIFAR-sized images the two took
more time than every matmul together. An evenly stepping index is a strided view of the
indexed array instead, so

- the gather is one strided copy of that view;
- the accumulating write adds into the view in slabs: the shortest run of leading index axes
  after which the rest of the view overlaps nowhere (for a convolution, KH x KW slabs of
  (N, C, Ho, Wo)) is looped over, and each slab is added in one vectorized pass. Elements
  that land on the same place differ in those leading axes, so they are added in the order
  `np.add.at` adds them (the values in row-major order) and the sums round the same.

Anything else (a mask, a key with slices between the index tensors, an index that does not
step evenly or is out of range) returns None / False and takes NumPy's general path, which
also raises the errors.
"""
from __future__ import annotations

import numpy as np

# Past this many slabs a vectorized pass per slab loses to np.add.at's one loop.
MAX_SLABS = 4096
# Below this many elements NumPy's own indexing is faster than working out the view (~30 us).
MIN_ELEMENTS = 1 << 12


def view(x, key, idx):
    """x[key] with index tensors idx as a strided view of x, or None."""
    plan = _plan(x, key, idx)
    return None if plan is None else _strided(x, plan)


def add_at(out, key, idx, values) -> bool:
    """np.add.at(out, key, values) through a strided view of out, when the index allows it;
    False (nothing written) when it does not."""
    plan = _plan(out, key, idx)
    if plan is None or getattr(values, "dtype", out.dtype) != out.dtype:
        return False
    shape, strides, _, first, n = plan
    try:
        values = np.broadcast_to(values, shape)
    except ValueError:
        return False     # NumPy's path raises the shape error
    for k in range(n + 1):
        if int(np.prod(shape[first:first + k])) > MAX_SLABS:
            return False
        rest = [(m, s) for a, (m, s) in enumerate(zip(shape, strides)) if not first <= a < first + k]
        if _apart(rest):
            break
    else:
        return False
    target = _strided(out, plan)
    for slab in np.ndindex(*shape[first:first + k]):
        at = (slice(None),) * first + slab
        part = target[at]
        np.add(part, values[at], out=part)
    return True


def _strided(x, plan):
    shape, strides, starts, first, _ = plan
    head = (slice(None),) * first + tuple(slice(s, None) for s in starts)
    return np.lib.stride_tricks.as_strided(x[head], shape=shape, strides=strides)


def _apart(axes):
    """Whether a view of these (extent, stride) axes reaches no element twice: each stride
    exceeds the farthest offset the smaller ones reach."""
    reach = 0
    for m, s in sorted(((m, abs(s)) for m, s in axes if m > 1), key=lambda a: a[1]):
        if s <= reach:
            return False
        reach += s * (m - 1)
    return True


def _plan(x, key, idx):
    """(shape, strides, starts, first, n) of the view equal to x[key]: its shape and strides,
    the first index of each indexed dimension, the position of the first index tensor and the
    number of broadcast index axes; or None. The index tensors must be adjacent integer arrays
    that broadcast (a plain `x[t]` gains nothing here), with only full slices around them."""
    # (one index tensor cannot broadcast: an embedding's x[t] leaves at once, every call)
    if len(idx) < 2 or any(getattr(t, "dtype", None) is None or t.dtype.kind not in "iu"
                           for t in idx):
        return None
    first = next(p for p, k in enumerate(key) if k in ("T", "G"))
    n = len(idx)
    if len(key) > x.ndim or any(k not in ("T", "G") for k in key[first:first + n]) \
            or any(k != (None, None, None) for k in key[:first] + key[first + n:]):
        return None
    try:
        shape = np.broadcast_shapes(*(t.shape for t in idx))
    except ValueError:
        return None
    size = int(np.prod(shape))
    if all(t.size == size for t in idx) \
            or size * int(np.prod(x.shape[:first] + x.shape[first + n:])) < MIN_ELEMENTS:
        return None
    strides, starts = [0] * len(shape), []
    for d, t in zip(range(first, first + n), idx):
        steps = _steps(t, shape, x.shape[d])
        if steps is None:
            return None
        starts.append(steps[0])
        for axis, c in enumerate(steps[1]):
            strides[axis] += c * x.strides[d]
    return (x.shape[:first] + tuple(shape) + x.shape[first + n:],
            x.strides[:first] + tuple(strides) + x.strides[first + n:], starts, first, len(shape))


def _steps(t, shape, extent):
    """(start, step per broadcast axis) when t equals start + sum(step_k * i_k) over the
    broadcast index (i_0, i_1, ...) and stays within [0, extent); else None."""
    t = t.reshape((1,) * (len(shape) - t.ndim) + t.shape)
    start = int(t.flat[0])
    coefficients, expected, low, high = [], start, start, start
    for axis, m in enumerate(t.shape):
        if m == 1:
            coefficients.append(0)
            continue
        unit = (0,) * axis + (1,) + (0,) * (t.ndim - axis - 1)
        c = int(t[unit]) - start
        coefficients.append(c)
        ramp = (np.arange(m) * c).reshape((1,) * axis + (m,) + (1,) * (t.ndim - axis - 1))
        expected = expected + ramp
        low, high = low + min(0, c * (m - 1)), high + max(0, c * (m - 1))
    if low < 0 or high >= extent or not np.array_equal(t, expected):
        return None
    return start, coefficients
