"""Names the step binds to a tensor it read through another name: bound again after every call.

A script's training loop turned into a step reads its batch through a name the loop rebinds,
and often unpacks it into names the script reads again after the loop (the CIFAR-10
tutorial's `for i, data in enumerate(trainloader): inputs, labels = data`, with `labels`
used by the evaluation code below it, so the step binds the global `labels`):

    def step():
        global labels
        inputs, labels = data          # labels is data[1] itself
        ...

After the trace the global `labels` holds the batch's tensor, which the binding search
(bindings.py) then finds through two names: `data[1]` and `labels`. A tensor reached through
another name stays lifted by identity (records.py, sources.py), so every new batch failed a
binding guard and every call traced again, until the recompile limit made the step run
eagerly. But `labels` is not a way the step reached the tensor: the step put it there. So
such a name's binding guard is set aside while records.py and sources.py decide how the
tensor is read; when it is then read through its path on every call (a "name" slot), the
name's guard is dropped and an AliasWrite binds the name, after every call, to the tensor that
path holds then: the very object, as eagerly (`labels is data[1]`). A tensor that stays
lifted by identity (a parameter the step also binds to a name) keeps the guard.

Only a name whose value before the trace the step did not read as a tensor (its old tensor is
no input of the trace) is such a name: `h = f(h)` reads its old value.
"""
from __future__ import annotations

import types

from ..tensor import Tensor
from .helpers import global_names
from .sources import NamePlace

_UNBOUND = object()


class AliasWrite:
    """After every call: place (a name of the step) = what source (the place the trace reads
    the tensor through) holds."""
    __slots__ = ("place", "source", "label")

    def __init__(self, place, source):
        self.place, self.source = place, source
        self.label = place.label

    def apply(self):
        self.place.bind(self.source.raw())

    def same_as(self, other, rename=None) -> bool:
        return type(other) is AliasWrite and other.place == self.place \
            and other.source == self.source

    def describe(self) -> str:
        return f"after each call: {self.place.label} = {self.source.label}  (the step binds it)"


def set_aside(fn, slots, snap, guards):
    """Split guards into those kept and the binding guards of the step's names that it bound
    to a tensor it read through something else: {id(tensor): (NamePlace, guard)}."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return guards, {}
    read = {id(s.slot[1]) for s in slots if s.slot[0] == "obj"}
    before = {(id(c), k): obj for c, k, obj, _ in snap.roots}
    names = {}
    for place in _names(fn, code):
        now = place.raw()
        old = before.get((id(place.container), place.key), _UNBOUND)
        if isinstance(now, Tensor) and id(now) in read and now is not old \
                and not (isinstance(old, Tensor) and id(old) in read):
            names[(id(place.container), place.key)] = (place, now)
    kept, aside = [], {}
    for g in guards:
        hit = names.get((id(g.container), g.key))
        if hit is not None and g.value is hit[1]:
            aside[id(hit[1])] = (hit[0], g)
        else:
            kept.append(g)
    return kept, aside


def _names(fn, code):
    g = getattr(fn, "__globals__", {})
    for name in sorted(global_names(code) & g.keys()):
        yield NamePlace(g, name, f"global {name}")
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        if type(cell) is types.CellType:
            yield NamePlace(cell, None, f"closure variable {name}")


def writes(slots, aside):
    """(AliasWrites, the guards set aside to keep) once the slots' reads are decided: a name
    whose tensor is now read through a path is written after every call; one whose tensor
    stays lifted by identity keeps its guard."""
    out, keep = [], []
    for spec in slots:
        hit = aside.pop(id(spec.slot[1]), None) if spec.slot[0] == "obj" else None
        if hit is not None:
            keep.append(hit[1])
    for spec in slots:
        kind, where = spec.slot
        if kind != "name":
            continue
        for key, (place, g) in list(aside.items()):
            if where.raw() is g.value and where != place:
                out.append(AliasWrite(place, where))
                del aside[key]
    keep += [g for _, g in aside.values()]
    return out, keep
