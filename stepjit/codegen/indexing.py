"""Native forms of reads and writes through index tensors, and of arange, for native programs.

`C[X]` (an embedding), `logits[rows, y]` (cross_entropy's pick) and their backward
scatter-adds (`index_put` with accumulate) are the registry's `gather` and `index_put` with a
key of 1-3 index tensors ("T" or "G") over the leading dimensions, every index tensor of
one shape B. Their native templates (ir/primitives/indexing.py) call the functions here:
`take<k>` copies rows of x (x seen as x.shape[:k] + (R,), R the product of the rest) into
an out of shape B + x.shape[k:]; `put<k>` copies base into out and stores or adds each row
of values (shape B + base.shape[k:]) at its index, one after another in index order, as
`np.add.at` does, so duplicate indices accumulate and float32 sums round as eagerly.

Indices are checked before anything is read or written, in the order NumPy (and so the
eager impl) checks them: a "G" position refuses negative indices first (the most negative
reported, as the impl's own check does), then each index tensor in turn, element by element,
must lie in [-size, size). The first bad index goes to `status` = (1, which index tensor,
its value), the function returns at once, the program returns early (native_program.py) and
its caller raises the impl's own error from those three numbers (ir/impl.py raise_check). A
compiled step never reads or writes out of bounds, and leaves the user's tensors unchanged.

Arrays are seen flat through `reshaped`, a view for C-contiguous arrays (all of them in a
packed entry), so these allocate nothing and the program keeps its machine-code entry.
"""
from __future__ import annotations

from numba import njit

from ..ir.primitives.indexing import window_start
from .pointers import reshaped

_window_start = njit(cache=True)(window_start)   # the impl's own rule, compiled


@njit(cache=True)
def _negative(a, j, status):
    """Flag a negative index of the flat index array a (its minimum, as the impl reports)."""
    lo = 0
    for e in range(a.size):
        if a[e] < lo:
            lo = a[e]
    if lo < 0:
        status[0], status[1], status[2] = 1, j, lo
        return True
    return False


@njit(cache=True)
def _outside(a, size, j, status):
    """Flag the first index of a outside [-size, size), NumPy's bounds."""
    for e in range(a.size):
        v = a[e]
        if v < -size or v >= size:
            status[0], status[1], status[2] = 1, j, v
            return True
    return False


@njit(cache=True)
def _at(v, size):
    return v + size if v < 0 else v


@njit(cache=True)
def _rest(x, k):
    """The product of x's dimensions after the first k (1 for none)."""
    r = 1
    for d in range(k, x.ndim):
        r *= x.shape[d]
    return r


@njit(cache=True)
def _bad1(x, a0, g0, status):
    status[0] = 0
    return (g0 and _negative(a0, 0, status)) or _outside(a0, x.shape[0], 0, status)


@njit(cache=True)
def _bad2(x, a0, a1, g0, g1, status):
    status[0] = 0
    if (g0 and _negative(a0, 0, status)) or (g1 and _negative(a1, 1, status)):
        return True
    return _outside(a0, x.shape[0], 0, status) or _outside(a1, x.shape[1], 1, status)


@njit(cache=True)
def _bad3(x, a0, a1, a2, g0, g1, g2, status):
    status[0] = 0
    if (g0 and _negative(a0, 0, status)) or (g1 and _negative(a1, 1, status)) \
            or (g2 and _negative(a2, 2, status)):
        return True
    return _outside(a0, x.shape[0], 0, status) or _outside(a1, x.shape[1], 1, status) \
        or _outside(a2, x.shape[2], 2, status)


@njit(cache=True)
def _flat(a):
    return reshaped(a, (a.size,))


@njit(cache=True)
def _copy(out, base):
    of, bf = _flat(out), _flat(base)
    for e in range(of.size):
        of[e] = bf[e]


@njit(cache=True)
def _scatter(of, vf, e, r, accumulate):
    if accumulate:
        for c in range(of.shape[1]):
            of[r, c] += vf[e, c]
    else:
        for c in range(of.shape[1]):
            of[r, c] = vf[e, c]


# -- gather: out = x[i0, ...] -----------------------------------------------------------------
@njit(cache=True)
def take1(out, x, i0, status, g0):
    a0 = _flat(i0)
    if _bad1(x, a0, g0, status):
        return
    n0, r = x.shape[0], _rest(x, 1)
    xf, of = reshaped(x, (n0, r)), reshaped(out, (a0.size, r))
    for e in range(a0.size):
        src = _at(a0[e], n0)
        for c in range(r):
            of[e, c] = xf[src, c]


@njit(cache=True)
def take2(out, x, i0, i1, status, g0, g1):
    a0, a1 = _flat(i0), _flat(i1)
    if _bad2(x, a0, a1, g0, g1, status):
        return
    n0, n1, r = x.shape[0], x.shape[1], _rest(x, 2)
    xf, of = reshaped(x, (n0 * n1, r)), reshaped(out, (a0.size, r))
    for e in range(a0.size):
        src = _at(a0[e], n0) * n1 + _at(a1[e], n1)
        for c in range(r):
            of[e, c] = xf[src, c]


@njit(cache=True)
def take3(out, x, i0, i1, i2, status, g0, g1, g2):
    a0, a1, a2 = _flat(i0), _flat(i1), _flat(i2)
    if _bad3(x, a0, a1, a2, g0, g1, g2, status):
        return
    n0, n1, n2, r = x.shape[0], x.shape[1], x.shape[2], _rest(x, 3)
    xf, of = reshaped(x, (n0 * n1 * n2, r)), reshaped(out, (a0.size, r))
    for e in range(a0.size):
        src = (_at(a0[e], n0) * n1 + _at(a1[e], n1)) * n2 + _at(a2[e], n2)
        for c in range(r):
            of[e, c] = xf[src, c]


# -- index_put: out = base; out[i0, ...] = values (or += with accumulate) ---------------------
@njit(cache=True)
def put1(out, base, values, i0, status, accumulate):
    a0 = _flat(i0)
    if _bad1(base, a0, False, status):
        return
    _copy(out, base)
    n0, r = base.shape[0], _rest(base, 1)
    of, vf = reshaped(out, (n0, r)), reshaped(values, (a0.size, r))
    for e in range(a0.size):
        _scatter(of, vf, e, _at(a0[e], n0), accumulate)


@njit(cache=True)
def put2(out, base, values, i0, i1, status, accumulate):
    a0, a1 = _flat(i0), _flat(i1)
    if _bad2(base, a0, a1, False, False, status):
        return
    _copy(out, base)
    n0, n1, r = base.shape[0], base.shape[1], _rest(base, 2)
    of, vf = reshaped(out, (n0 * n1, r)), reshaped(values, (a0.size, r))
    for e in range(a0.size):
        _scatter(of, vf, e, _at(a0[e], n0) * n1 + _at(a1[e], n1), accumulate)


@njit(cache=True)
def put3(out, base, values, i0, i1, i2, status, accumulate):
    a0, a1, a2 = _flat(i0), _flat(i1), _flat(i2)
    if _bad3(base, a0, a1, a2, False, False, False, status):
        return
    _copy(out, base)
    n0, n1, n2, r = base.shape[0], base.shape[1], base.shape[2], _rest(base, 3)
    of, vf = reshaped(out, (n0 * n1 * n2, r)), reshaped(values, (a0.size, r))
    for e in range(a0.size):
        row = (_at(a0[e], n0) * n1 + _at(a1[e], n1)) * n2 + _at(a2[e], n2)
        _scatter(of, vf, e, row, accumulate)


# -- arange --------------------------------------------------------------------------------
@njit(cache=True)
def arange_into(out, start, step):
    """out[i] = start + i * step: integer arange (exact; its length is out's)."""
    for i in range(out.shape[0]):
        out[i] = start + i * step


# -- concatenation ---------------------------------------------------------------------------
@njit(cache=True)
def concat_part(out, x, at, axis):
    """Copy x into out from position `at` along axis (one part of a concatenation, written
    into its buffer); the position after it. NumPy's np.concatenate in Numba compiles a
    function per number of parts (4.5 s for the 16 parts of an unrolled RNN's stacked
    gradients) and allocates its result; this one compiles once per pair of array types."""
    n, total = x.shape[axis], out.shape[axis]
    outer, inner = _around(x.shape, axis)
    xv = reshaped(x, (outer, n, inner))
    if out.flags.c_contiguous:
        ov = reshaped(out, (outer, total, inner))
        for a in range(outer):
            for j in range(n):
                for k in range(inner):
                    ov[a, at + j, k] = xv[a, j, k]
    else:   # (a strided buffer: `reshaped` would write into a copy) element by element
        for a in range(outer):
            for j in range(n):
                for k in range(inner):
                    out.flat[(a * total + at + j) * inner + k] = xv[a, j, k]
    return at + n


# -- windows whose start is read per call (dynamic_slice, dynamic_update_slice) ----------------
@njit(cache=True)
def _around(shape, axis):
    """(product of the dimensions before axis, product of those after)."""
    outer = inner = 1
    for d in range(len(shape)):
        if d < axis:
            outer *= shape[d]
        elif d > axis:
            inner *= shape[d]
    return outer, inner


@njit(cache=True)
def take_window(out, x, start, axis, step):
    """out = x's window of out.shape[axis] elements `step` apart along axis, at start[()] read
    as the impl reads it (ir/primitives/indexing.py window_start: never out of bounds)."""
    n, size = x.shape[axis], out.shape[axis]
    outer, inner = _around(x.shape, axis)
    s = _window_start(start[()], n, size, step)
    xv = reshaped(x, (outer, n, inner))
    ov = reshaped(out, (outer, size, inner))
    for a in range(outer):
        for j in range(size):
            for k in range(inner):
                ov[a, j, k] = xv[a, s + j * step, k]


@njit(cache=True)
def put_window(out, base, update, start, axis, step):
    """out = base with update written over its window along axis at start[()] (take_window's)."""
    n, size = base.shape[axis], update.shape[axis]
    outer, inner = _around(base.shape, axis)
    s = _window_start(start[()], n, size, step)
    bv = reshaped(base, (outer, n, inner))
    ov = reshaped(out, (outer, n, inner))
    uv = reshaped(update, (outer, size, inner))
    for a in range(outer):
        for j in range(n):
            for k in range(inner):
                ov[a, j, k] = bv[a, j, k]
        for j in range(size):
            for k in range(inner):
                ov[a, s + j * step, k] = uv[a, j, k]
