"""Slices whose bounds are ints read per call: one trace for every batch of a loop.

`xb = x_train[i * bs:i * bs + bs]` (the official nn_tutorial), `source[i:i + seq_len]`
(word_language_model's get_batch), `X[i:i + batch_size]` (d2l): the loop variable `i` is read
by the step from a global or a closure cell (or passed as an int argument, symbolic.ArgInt)
and changes on every call. Once it has changed,
traces see a SymbolicInt in its place (symbolic.py); an exact use would make a trace per
value. A slice bound is not an exact use: what the trace needs of it is

  - the window's length, which fixes the result's shape: `len(range(*slice(a, b,
    step).indices(n)))`, guarded for each call's bounds (WindowGuard), so a last partial
    batch, a shorter window, retraces (a new shape, as torch.compile recompiles for it);
  - where the window starts: a 0-dim int64 graph input (the place, read on every call, with
    the arithmetic that made the start from it as int64 nodes), taken by the `dynamic_slice`
    primitive (XLA's DynamicSlice), which reads the start as Python does (negative counts
    from the end) and clamps it so the window fits.

An int index `x[i]` is a window of one element, guarded to lie in the dimension (PyTorch
raises otherwise), then indexed at 0. A start that is a constant (`x[:i]`) needs no runtime
value: the slice stays static, its stop guarded through the length. The step must be a
positive constant; keys with index tensors or masks, and symbolic steps, take the exact
value (a trace for that value), as before.

The window is a copy in the IR (it has no dynamic views), but for the step's Python it is a
view of its base, as eagerly: it shares the base's version counter and records a `slice` step
(autograd/view_writes.py) whose key holds the SymbolicInts, so writing through it, or using it
after its base was written, replays that slice with the bounds made exact: the trace then
holds for those values only, and stays correct.
"""
from __future__ import annotations

import builtins

from .. import dispatch
from ..ir import primitives as P
from .symbolic import SymbolicInt, WindowGuard, _text

_PLAIN = (int, builtins.slice, type(None), type(Ellipsis))


def take_windows(tracer, x, key):
    """(x with each per-call window of key taken, the rest of key) for `x[key]`; (x, key)
    unchanged when key has no symbolic bound or a form this does not handle."""
    items = key if type(key) is tuple else (key,)
    if not any(_symbolic(k) for k in items):
        return x, key
    if not all(type(k) in _PLAIN or type(k) is SymbolicInt for k in items):
        return x, key
    consumed = sum(k is not None and k is not Ellipsis for k in items)
    if consumed > x.ndim or sum(k is Ellipsis for k in items) > 1:
        return x, key      # the ordinary path raises PyTorch's error
    out, dim = [], 0
    for k in items:
        if k is Ellipsis:
            out.append(k)
            dim += x.ndim - consumed
            continue
        if k is None:
            out.append(k)
            continue
        if type(k) is SymbolicInt:
            x, k = _index(tracer, x, k, dim)
        elif type(k) is builtins.slice and _symbolic(k):
            x, k = _slice(tracer, x, k, dim)
        out.append(k)
        dim += 1
    return x, tuple(out)


def _symbolic(k):
    if type(k) is builtins.slice:
        return type(k.start) is SymbolicInt or type(k.stop) is SymbolicInt
    return type(k) is SymbolicInt


def _index(tracer, x, i, dim):
    """x[..., i, ...]: a window of one element at i, then its element 0."""
    n = x.shape[dim]
    if not -n <= i._value < n:
        return x, i.exact()      # out of range: the ordinary path raises PyTorch's error
    _guard(i, _bound(i), WindowGuard.INDEX, 1, n, True, _text(i._place.label, i._expr))
    # (the view record for a negative i: i:i+1 would be empty at -1; replaying the record
    # makes i exact, so its sign here is the one the replay sees)
    stop = None if i._value == -1 else i + 1
    return _take(tracer, x, i, dim, 1, 1, (i, stop, None)), 0


def _slice(tracer, x, sl, dim):
    step = 1 if sl.step is None else sl.step
    if type(step) is not int or step < 1:    # a symbolic step, or one PyTorch refuses
        return x, builtins.slice(*[SymbolicInt.exact(v) if type(v) is SymbolicInt else v
                                   for v in (sl.start, sl.stop, sl.step)])
    n = x.shape[dim]
    a, b = _value(sl.start), _value(sl.stop)
    size = len(range(*builtins.slice(a, b, step).indices(n)))
    place = sl.start if type(sl.start) is SymbolicInt else sl.stop
    text = f"{_show(sl.start)}:{_show(sl.stop)}" + ("" if step == 1 else f":{step}")
    _guard(place, _bound(sl.start), _bound(sl.stop), step, n, size, text)
    if type(sl.start) is not SymbolicInt:
        return x, builtins.slice(a, b, step)   # a constant start: a static slice of that length
    return _take(tracer, x, sl.start, dim, size, step, (sl.start, sl.stop, sl.step)), \
        builtins.slice(None)


def _take(tracer, x, start, dim, size, step, bounds):
    out = dispatch.apply(P.dynamic_slice, x, start.traced(tracer), axis=dim, size=size, step=step)
    # for the step's Python a view of x, as eagerly (the module docstring)
    key = ((None, None, None),) * dim + (bounds,)
    dispatch.view_of(out, x, P.slice, {"key": key})
    return out


def _guard(sym, start, stop, step, n, value, text):
    place = sym._place
    guard = WindowGuard(place, start, stop, step, n, value, text)
    if not any(guard.same_as(g) for g in place.guards):   # xb and yb: one guard for both
        place.guards.append(guard)


def _bound(v):
    if type(v) is SymbolicInt:
        return (v._place.container, v._place.key, v._expr)
    return v


def _value(v):
    return v._value if type(v) is SymbolicInt else v


def _show(v):
    if v is None:
        return ""
    return _text(v._place.label, v._expr) if type(v) is SymbolicInt else repr(v)
