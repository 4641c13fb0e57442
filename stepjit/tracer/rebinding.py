"""State the step rebinds: a write-back, not a new trace per call.

A training step often keeps state by rebinding a name to a new tensor rather than writing
into the old one: karpathy's batch norm keeps `bnmean_running = 0.999 * bnmean_running +
0.001 * bnmeani` in a global, a module `self.running_mean = ...`, a closure `nonlocal avg`.
Traced, the new tensor is made by the step and outlives it, so the trace would describe one
call only (tf.function's rule for variables) and every call would trace again.

A global or closure variable of the step itself is rebound to a fresh tensor after every
call (sources.py). Elsewhere, where the snapshot taken before the trace (values.snapshot) saw a
tensor bound in a helper's global, an attribute or a Module registry, and after the step that
binding holds
a tensor the step made, of the same type, shape and dtype, neither requiring grad, the binding
is put back to the old tensor object and the new value becomes that object's new storage
(`old.data = new`, as `replace_data`): a write-back applied after every call like any other.
What a later call reads through the binding is then the new value, as eagerly.

The one difference from eager: the binding keeps its tensor object (with new storage) where
eager binds a new object; another reference to the old object, kept outside the step, sees the
new value where eagerly it would keep the old one. A new tensor that requires grad (carrying
autograd history across calls), or of another shape or dtype, is left as it is: the trace then
describes one call only, as before.
"""
from __future__ import annotations

from ..ir.graph import Value
from ..tensor import Tensor
from .sources import is_direct_name
from .values import _MISSING, _current


def write_back_rebinds(tracer, snap, fn) -> list:
    """Turn the rebindings the step made into write-backs; the labels of those it turned.
    Not fn's own globals and closure cells: the name itself is rebound to a fresh tensor after
    every call there (sources.py), which is eager's behaviour exactly (a `history` list the
    old tensor was appended to keeps its value)."""
    done = []
    for container, key, old, label in list(snap.tensors.values()):
        new = _current(container, key)
        if new is _MISSING or new is old or not _rebinds(tracer, old, new) \
                or is_direct_name(container, key, fn):
            continue
        _bind(container, key, old)
        tracer.replace_data(old, new)
        done.append(label)
    return done


def _rebinds(tracer, old, new) -> bool:
    return (isinstance(new, Tensor) and isinstance(new._data, Value) and type(new) is type(old)
            and not new._requires_grad and not old._requires_grad
            and tuple(new.shape) == tuple(old.shape) and new.dtype is old.dtype
            and id(old) not in tracer.arg_slots and id(new) not in tracer.touched)


def _bind(container, key, obj):
    if key is None:
        container.cell_contents = obj   # a closure cell
    else:
        container[key] = obj
