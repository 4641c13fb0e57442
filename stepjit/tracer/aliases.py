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
name's guard is dropped and an AliasWrite binds the name, after every call, to the tensor the
call read there: the very object, as eagerly (`labels is data[1]`). So is a name the step
binds to one of its tensor arguments (`global last_x; last_x = x`), which no replay rebound
before: it kept the traced call's tensor. A tensor that stays lifted by identity (a parameter
the step also binds to a name) keeps the guard.

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
    """After every call: place (a name of the step) = the tensor of the trace's slot `slot` for
    that call (an argument, or a tensor read through a path): the write-back binds it
    (runtime/guardcode.py, the "alias" op)."""
    __slots__ = ("place", "slot", "source", "label")

    def __init__(self, place, slot, source):
        self.place, self.slot, self.source = place, slot, source
        self.label = place.label

    def same_as(self, other, rename=None) -> bool:
        return type(other) is AliasWrite and other.place == self.place \
            and other.slot == self.slot

    def describe(self) -> str:
        return f"after each call: {self.place.label} = {self.source}  (the step binds it)"


def set_aside(fn, slots, snap, guards, flat):
    """Split guards into those kept and the binding guards of the step's names that it bound
    to a tensor it read (an argument, or a tensor lifted from outside), and find those names:
    {id(tensor): [(NamePlace, its binding guard or None)]}. flat: the call's flat arguments."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return guards, {}
    read = {id(_tensor(s.slot, flat)) for s in slots if s.slot[0] in ("obj", "arg")}
    before = {(id(c), k): obj for c, k, obj, _ in snap.roots}
    names = {}
    for place in _names(fn, code):
        now = place.raw()
        old = before.get((id(place.container), place.key), _UNBOUND)
        if isinstance(now, Tensor) and id(now) in read and now is not old \
                and not (isinstance(old, Tensor) and id(old) in read):
            names[(id(place.container), place.key)] = (place, now)
    guard_of, kept = {}, []
    for g in guards:
        hit = names.get((id(g.container), g.key))
        if hit is not None and g.value is hit[1]:
            guard_of[id(hit[0])] = g
        else:
            kept.append(g)
    aside = {}
    for place, t in names.values():     # (`a = b = data[0]`: two names, one tensor)
        aside.setdefault(id(t), []).append((place, guard_of.get(id(place))))
    return kept, aside


def _tensor(slot, flat):
    kind, where = slot
    if kind == "arg":
        return flat[where]
    if kind == "obj":
        return where
    if kind == "name":
        return where.raw()
    return None


def _names(fn, code):
    g = getattr(fn, "__globals__", {})
    for name in sorted(global_names(code) & g.keys()):
        yield NamePlace(g, name, f"global {name}")
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        if type(cell) is types.CellType:
            yield NamePlace(cell, None, f"closure variable {name}")


def writes(slots, aside, flat):
    """(AliasWrites, the guards set aside to keep) once the slots' reads are decided: a name
    bound to an argument, or to a tensor now read through a path, is bound after every call to
    the slot's tensor; one whose tensor stays lifted by identity keeps its guard."""
    out, keep = [], []
    for pos, spec in enumerate(slots):
        kind, where = spec.slot
        for place, guard in aside.pop(id(_tensor(spec.slot, flat)), ()) if kind != "grad" else ():
            if kind == "obj" or (kind == "name" and where == place):
                if guard is not None:
                    keep.append(guard)
                continue
            source = f"argument {where}" if kind == "arg" else where.label
            out.append(AliasWrite(place, pos, source))
    keep += [g for hits in aside.values() for _, g in hits if g is not None]
    return out, keep
