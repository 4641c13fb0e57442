"""Eager backward without per-op dispatch: a plan's VJP rules as straight-line NumPy code.

A BackwardPlan fixes everything its nodes' VJP rules depend on but data: the
primitive, its input shapes and dtypes, its attributes, which inputs need a
gradient. Run op by op through dispatch, a rule costs several microseconds of
Python per op, more than the NumPy work at small shapes. So for a plan (and an
output-gradient shape and dtype, and the Python numbers the forward saved) the
rules are traced once, with the tracer, into IR, and the IR is written out as a
Python function that calls each primitive's impl directly, with the casts and
the result check dispatch applies (ir.impl.run_impl's steps, decided ahead of
time from the known dtypes). The registry's rules stay the only gradient
formulas; the function makes the same NumPy calls in the same order as the op
by op run, so the gradients are the same bits.

Only eagerly (no tracer active), and only where the function computes exactly
what the generic path would; `run` answers None and the node takes the generic
path when
  - the incoming gradient or a saved tensor is not a host array (CUDA), or the
    gradient requires grad or is a view with autograd history (a hook's doing),
  - a saved tensor was modified in place (the generic path raises the error),
    or a saved value is not a tensor or a plain Python number,
  - tracing the rules met something a straight-line function cannot replay
    (reading a value, an in-place write, a constant, an outside tensor),
  - the plan's key was seen fewer than WARM_AFTER times (a one-off plan is not
    worth a trace), or the plan already tracks MAX_KEYS keys,
  - running the function raised (the generic path raises the error it names).
Nodes sharing a plan have attributes equal under ==; the forward's signature
memo already treats such attributes as the same.

This module decides when a function runs and keeps them; writing one is the code
generator's job (codegen/eager_vjp.py, which traces the rules with the tracer), reached
through `generators.derive_vjp`, which the public API (stepjit/api.py) sets: the front end
imports nothing above it. Until it is set, every backward takes the generic path.

`ENABLED = False` forces the generic path (tests compare the two).
"""
from __future__ import annotations

import numpy as np

from .. import dispatch
from . import generators
from .node import SavedTensor

ENABLED = True
WARM_AFTER = 1     # backwards with a key that take the generic path before its function is derived
MAX_KEYS = 16      # keys one plan tracks (they differ by gradient dtype/shape and saved numbers)

_NDARRAY = np.ndarray
_NUMBERS = (int, float, bool)
_GENERIC = -1   # plan.arrays[key] when no function can be derived; a count of sightings before


def run(node, g, saved):
    """node's input gradients computed by its plan's function, or None for the generic path."""
    if not ENABLED or dispatch.MODE.tracer is not None:
        return None
    gd = g._data
    if type(gd) is not _NDARRAY or g._requires_grad or g._base is not None:
        return None
    args = [g, gd]
    key = _key_and_args(node.plan, saved, gd, args)
    if key is None:
        return None
    fn = node.plan.arrays.get(key, 0)
    if type(fn) is int:
        fn = _warm(node, key, fn, saved, gd)
        if fn is None:
            return None
    try:
        return fn(*args)
    except Exception:   # the generic path runs the same ops and raises its own clean error
        return None


def _key_and_args(plan, saved, gd, args):
    """The function's key (gradient shape and dtype, saved numbers) and its array arguments
    (appended to args), or None when a saved value rules the function out."""
    key = [gd.shape, gd.dtype]
    for name, _ in plan.save:   # the order the rules first read them
        v = saved[name]
        if type(v) is list:   # "xs": every input of a variadic primitive
            for x in v:
                if not _add_saved(x, key, args):
                    return None
        elif not _add_saved(v, key, args):
            return None
    return tuple(key)


def _add_saved(v, key, args):
    """A saved tensor's array goes to args, a saved number to the key; False for anything else,
    or a tensor modified since it was saved (the generic path raises the error)."""
    if type(v) is SavedTensor:
        d = v.data
        if v.version.value != v.saved_version or type(d) is not _NDARRAY:
            return False
        args.append(d)
        return True
    if type(v) in _NUMBERS and v == v:   # (a NaN would never find its key again)
        key.append(type(v))
        key.append(v)
        return True
    return False


def _warm(node, key, seen, saved, gd):
    """The function for key once the key was seen WARM_AFTER times (each of those backwards
    takes the generic path); None until then, and for good when it cannot be derived."""
    arrays = node.plan.arrays
    if seen == _GENERIC or (key not in arrays and len(arrays) >= MAX_KEYS):
        return None
    if seen < WARM_AFTER:
        arrays[key] = seen + 1
        return None
    if generators.derive_vjp is None:
        return None
    fn = generators.derive_vjp(node.plan, node._name, node.attrs, gd, saved)
    arrays[key] = _GENERIC if fn is None else fn
    return fn


def function_for(node, shape, dtype):
    """node's straight-line function for gradients of `shape` and `dtype`, derived now if it
    was not yet (tape.py asks once per recurring tape); None where `run` would answer None."""
    if not ENABLED or node.saved is None:
        return None
    gd = np.empty(shape, dtype)   # stands in for the gradient: the key reads its shape and dtype
    key = _key_and_args(node.plan, node.saved, gd, [])
    if key is None:
        return None
    arrays = node.plan.arrays
    fn = arrays.get(key, 0)
    if type(fn) is int:
        derive = generators.derive_vjp
        if fn == _GENERIC or derive is None or (key not in arrays and len(arrays) >= MAX_KEYS):
            return None
        fn = derive(node.plan, node._name, node.attrs, gd, node.saved)
        arrays[key] = _GENERIC if fn is None else fn
    return fn
