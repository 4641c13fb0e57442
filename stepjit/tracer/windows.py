"""Slices whose bounds are ints read per call: one trace for every batch of a loop.

`xb = x_train[i * bs:i * bs + bs]` (the official nn_tutorial), `source[i:i + seq_len]`
(word_language_model's get_batch), `X[i:i + batch_size]` (d2l): the loop variable `i` is read
by the step from a global or a closure cell (or passed as an int argument, symbolic.ArgNumber)
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
from ..ir.graph import Value
from ..ir.types import INT
from ..tensor import Tensor
from .symbolic import SymbolicInt, WindowGuard, _text

_PLAIN = (int, builtins.slice, type(None), type(Ellipsis))


def take_windows(tracer, x, key):
    """(x with each per-call window of key taken, the rest of key) for `x[key]`; (x, key)
    unchanged when key has no symbolic bound or a form this does not handle."""
    items = key if type(key) is tuple else (key,)
    if not any(_symbolic(k) or _traced_bounds(k) for k in items):
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
        elif type(k) is builtins.slice and _traced_bounds(k):
            x, k = _tensor_slice(tracer, x, k, dim)
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


def _traced_bounds(k):
    return type(k) is builtins.slice and (isinstance(k.start, Tensor) or isinstance(k.stop, Tensor))


def _tensor_slice(tracer, x, sl, dim):
    """x[..., i:i + w, ...] with i a traced 0-dim integer tensor (`for i in ix`, ix drawn by
    randint in the step): a window of w elements at i, when w is the same for every value of
    i (the stop is the start plus a constant) and i lies where Python's slice has all w: that
    is a truth decision, the same on every call that draws in-range starts. Otherwise the
    ordinary path, which takes the bounds' exact values."""
    step = 1 if sl.step is None else sl.step
    n = x.shape[dim]
    width = _fixed_width(tracer, sl.start, sl.stop)
    if width is None or type(step) is not int or step < 1 or not 0 < width <= n:
        return x, sl
    start = sl.start
    if not bool((start >= 0) & (start <= n - width)):
        return x, sl
    tracer.tensor_windows = True     # the view record's key holds the tensors (exact_numbers)
    size = len(range(0, width, step))
    return _take(tracer, x, start, dim, size, step, (start, sl.stop, sl.step)), \
        builtins.slice(None)


def _fixed_width(tracer, start, stop):
    """stop - start when both are traced 0-dim integer tensors that differ by a constant
    (`i` and `i + block_size`, `i + 1` and `i + block_size + 1`); else None."""
    if not (_int_scalar(start) and _int_scalar(stop)):
        return None
    base_a, a = _offset(tracer, tracer.value_of(start))
    base_b, b = _offset(tracer, tracer.value_of(stop))
    return b - a if base_a is base_b else None


def _int_scalar(t):
    return isinstance(t, Tensor) and t.ndim == 0 and t.dtype.category == INT


def _offset(tracer, v):
    """(base, c) with v = base + c, following add/sub nodes with an int constant operand."""
    c = 0
    while True:
        node = _producer(tracer.graph, v)
        if node is None or node.prim not in (P.add, P.sub):
            return v, c
        a, b = node.inputs
        if isinstance(a, Value) and type(b) is int:
            v, c = a, c + (b if node.prim is P.add else -b)
        elif node.prim is P.add and isinstance(b, Value) and type(a) is int:
            v, c = b, c + a
        else:
            return v, c


def _producer(graph, v, within=64):
    """The node computing v, looked for among the last `within` nodes (an offset is made just
    before the slice that uses it)."""
    for node in reversed(graph.nodes[-within:]):
        if node.out is v:
            return node
    return None


def _take(tracer, x, start, dim, size, step, bounds):
    if type(start) is SymbolicInt:
        start = start.traced(tracer)
    out = dispatch.apply(P.dynamic_slice, x, start, axis=dim, size=size, step=step)
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
