"""Bookkeeping for real (concrete) tensors a trace touches.

Each touched tensor gets a Touched record: where the runtime will find it on
later calls (its slot), what it looked like when the trace began (restored when
the trace ends, and guarded on later calls), and how the trace changed it.

Slots:
  ("arg", i)    the i-th flattened tensor argument of the call
  ("obj", t)    a tensor held by the trace itself (closure or global weights,
                module parameters, optimizer state), found by identity
  ("grad", k)   the `.grad` of the touched tensor with index k
"""
from __future__ import annotations


class Touched:
    __slots__ = ("index", "obj", "slot", "label", "orig_data", "orig_grad", "orig_requires_grad",
                 "orig_grad_fn", "orig_output_nr", "orig_version", "orig_view", "value", "grad_access",
                 "replaced",
                 "data_write", "grad_write", "segment", "history")

    def __init__(self, index, obj, slot, label):
        self.index = index
        self.obj = obj
        self.slot = slot
        self.label = label
        self.orig_data = obj._data
        self.orig_grad = obj._grad
        self.orig_requires_grad = obj._requires_grad
        self.orig_grad_fn = obj._grad_fn
        self.orig_output_nr = obj._output_nr
        self.orig_version = obj._version.value
        # A view made outside the step is an input of its own for the trace (writes through
        # such aliases are refused by trace._check_aliasing), not a view to replay.
        self.orig_view = obj._view
        obj._view = None
        self.value = None          # the graph input Value bound to its data, once read
        self.grad_access = None    # "read" or "write": how the trace first met its .grad
        self.replaced = False      # `.data = ...` gave it new storage
        self.data_write = None     # final Value of its data, when the trace changed it
        self.grad_write = None     # ("none",) | ("object", k) | ("new", Value)
        self.segment = 0           # decisions taken before it was touched: the segment that reads it
        self.history = False       # it had a grad_fn (outside autograd history), cut for the trace

    def restore(self):
        t = self.obj
        t._data = self.orig_data
        t._grad = self.orig_grad
        t._requires_grad = self.orig_requires_grad
        t._grad_fn = self.orig_grad_fn
        t._output_nr = self.orig_output_nr
        t._version.value = self.orig_version
        t._view = self.orig_view


class AliasGroups:
    """Tensor objects that share storage (`.data`, `.detach()`, `.data = `): a store into one
    must be seen by all, as it is eagerly."""

    def __init__(self):
        self._group = {}   # id(tensor) -> list of tensors in its group

    def join(self, existing, new):
        group = self._group.get(id(existing))
        if group is None:
            group = self._group[id(existing)] = [existing]
        self.leave(new)
        group.append(new)
        self._group[id(new)] = group

    def leave(self, t):
        group = self._group.pop(id(t), None)
        if group is not None:
            group[:] = [x for x in group if x is not t]

    def members(self, t):
        return self._group.get(id(t)) or [t]
