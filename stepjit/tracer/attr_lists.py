"""Lists an object keeps in an attribute, read through that attribute on every call.

A trainer's stats object resets its totals each epoch with a new list (fastai's `self.tot_mets
= [0.] * len(self.metrics)`) and the step accumulates into its items (`self.tot_mets[i] += m *
bn`). Guarded as the object it was when traced (values.path_guards' identity guard on the
`tot_mets` link, ValueGuards and LengthGuards holding the list), every trace that touched it
would be traced again each epoch. TorchDynamo guards such a list through its source
(`self.tot_mets`): its length and items, whatever list the attribute holds. So does a ListVia:
it stands for "the list at d[k]" (d an object's attribute dict) in the value and length guards,
in the "name" slots of its tensor items (sources.py) and in the rebinding of an item the step
replaced by a tensor, so they read and write the list the attribute holds at the call. Where a
trace appends to such a list or reads one of its numbers per call, the list's identity stays
guarded (values.path_guards, from those writes and inputs): a replay must not write to a list
the attribute no longer holds.
"""
from __future__ import annotations

import weakref

_MISSING = object()
_VIAS = weakref.WeakValueDictionary()    # (id(d), k) -> ListVia: one per place, kept while used


class ListVia:
    """The list at d[k] (d an object's attribute dict), read on each access."""
    __slots__ = ("d", "key", "__weakref__")

    def __init__(self, d, key):
        self.d, self.key = d, key

    def now(self):
        x = self.d.get(self.key)
        return x if type(x) is list else None

    def get(self, i, default=None):
        x = self.now()
        return x[i] if x is not None and type(i) is int and -len(x) <= i < len(x) else default

    def __getitem__(self, i):
        x = self.get(i, _MISSING)
        if x is _MISSING:
            raise KeyError(i)
        return x

    def __setitem__(self, i, value):
        self.now()[i] = value

    def __len__(self):
        x = self.now()
        return -1 if x is None else len(x)     # (-1: no list there, which no length guard holds)


def via(d, key) -> ListVia:
    """The ListVia of d[key], shared by every guard and slot that reads it."""
    v = _VIAS.get((id(d), key))
    if v is None or v.d is not d:
        v = _VIAS[(id(d), key)] = ListVia(d, key)
    return v


def attribute_of(lst, snap):
    """The ListVia through which the step reaches the list lst, when its last link is an
    attribute of one of the user's objects (not stepjit's own); else None."""
    path = snap.paths.get(id(lst))
    if not path:
        return None
    d, key, obj, _ = path[-1]
    entry = snap.attrs.get(id(d))
    if obj is not lst or entry is None or entry[3] or type(key) is not str:
        return None
    return via(d, key)


def through_attribute(guard, snap):
    """A value or length guard on such a list, made to read it through its attribute."""
    if type(guard.container) is list:
        lv = attribute_of(guard.container, snap)
        if lv is not None:
            guard.container = lv
    return guard


def real(container):
    """The object a container stands for now: a ListVia's list (None if gone), else itself."""
    return container.now() if type(container) is ListVia else container
