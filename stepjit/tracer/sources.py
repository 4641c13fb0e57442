"""Tensors a step reaches through a plain name: read through the name on every call, and
names the step binds to a tensor it made, rebound after every call.

A training loop turned into a step function (by hand, or by rewriting a script's loop body)
reads its batch from a global or a closure variable that the loop rebinds before each call:

    for images, labels in loader:          # the loop rebinds the globals ...
        step()                              # ... that the step reads: model(images)

Lifted by identity, such a tensor is a new object on every call: the binding guard
(bindings.py) fails and every call traces again, until the recompile limit makes the step
run eagerly. TorchDynamo treats a global tensor as a graph input found through its source
and guarded on its shape, dtype and requires_grad, not its identity; so does stepjit here. A
lifted tensor that was bound, when the trace began, directly to a global of the step's
module or to a cell of its closure, and that the binding search finds through no other path
(a module's parameter, an optimizer's state, a list: those stay lifted by identity, their
links guarded), becomes a ("name", NamePlace) slot: each call reads whatever the name holds
and checks it as it checks an argument (shape, dtype, requires_grad, `.grad` presence). A
name that no longer holds a tensor fails that check, and the call traces again.

The other half: a step that binds such a name to a tensor it made (`images =
images.reshape(-1, 784)`, a global `loss` or `outputs` the script reads after the loop)
leaves a tensor that outlives the call, which would make the trace describe one call only.
When the only references to that tensor are direct bindings of the step's globals or closure
cells, the trace instead rebinds those names after every call to a fresh tensor holding the
value (never the same object written again: a reference the caller kept to the previous one
keeps its value, as eagerly). The fresh tensor is what a compiled step returns: its value,
without autograd history (a compiled step's results carry none; `loss.item()` after the loop
is the usual use). A leaf that requires grad made by the step (a lazily created weight) is
state, not a value: it is not rebound this way.
"""
from __future__ import annotations

import gc
import types

from ..tensor import Tensor
from .bindings import BindingGuard
from .attr_lists import ListVia, attribute_of, real
from .helpers import def_loc, global_names

_UNBOUND = object()


class NamePlace:
    """A global of the step's module (container: its globals dict, key: the name) or a cell
    of its closure (container: the cell, key None)."""
    __slots__ = ("container", "key", "label")
    draws = False   # a DrawPlace (draws.py): reading it draws random numbers

    def __init__(self, container, key, label):
        self.container = container
        self.key = key
        self.label = label

    def read(self):
        """The tensor the name holds now, or None when it holds something else or nothing."""
        obj = self.raw()
        return obj if isinstance(obj, Tensor) else None

    def raw(self):
        if self.key is None:
            try:
                return self.container.cell_contents
            except ValueError:
                return _UNBOUND
        if type(self.container) is list:     # an item the step rebound (_rebound_items)
            return self.container[self.key] if self.key < len(self.container) else _UNBOUND
        return self.container.get(self.key, _UNBOUND)

    def bind(self, obj):
        if self.key is None:
            if obj is _UNBOUND:
                del self.container.cell_contents
            else:
                self.container.cell_contents = obj
        elif obj is _UNBOUND:
            if type(self.container) is dict:
                self.container.pop(self.key, None)
        else:
            self.container[self.key] = obj

    def __eq__(self, other):
        return type(other) is type(self) and other.container is self.container \
            and other.key == self.key

    def __hash__(self):
        return hash((id(self.container), self.key))

    def __repr__(self):
        return self.label


def is_direct_name(container, key, fn) -> bool:
    """container[key] is one of fn's own globals or closure cells."""
    fn = getattr(fn, "__func__", fn)
    if key is None:
        return type(container) is types.CellType and any(
            c is container for c in getattr(fn, "__closure__", None) or ())
    return container is getattr(fn, "__globals__", None) and type(key) is str


def read_by_name(fn, slots, snap, guards, rebound=()):
    """Turn the ("obj", t) slots of tensors bound directly to a name of fn before the trace,
    and reached through no other path, into ("name", NamePlace) slots; drop the binding guards
    of those names. slots: the trace's SlotSpecs; snap: values.snapshot taken before it;
    guards: bindings.binding_guards' result. Returns the guards kept, and (NamePlace, tensor)
    for each name turned: what it held when the trace began (the traced call's own run reads
    that, not what the step left there: `with_traced_names`)."""
    fn = getattr(fn, "__func__", fn)
    roots = _rebound_roots(rebound, snap)
    in_items = {id(t) for _, old in roots for t in _leaves(old)}
    by_tensor = {}
    for container, key, obj, label in snap.tensors.values():
        if is_direct_name(container, key, fn):
            by_tensor.setdefault(id(obj), []).append(NamePlace(container, key, label))
        elif id(obj) not in in_items and not obj._requires_grad:
            place = _kept_place(container, key, label, snap)
            if place is not None:
                by_tensor.setdefault(id(obj), []).append(place)
    linked = {}
    for g in guards:
        linked.setdefault(id(g.value), []).append(g)
    named = {}
    for spec in slots:
        kind, t = spec.slot
        places = by_tensor.get(id(t)) if kind == "obj" else None
        if not places or len(places) != 1 or id(t) in in_items:
            continue    # (also an item of a rebound tuple: _read_items' to judge)
        place = places[0]
        if any(g.key != place.key or g.container is not real(place.container)
               for g in linked.get(id(t), ())):
            continue     # also reached through an attribute or a container: identity
        spec.slot = ("name", place)
        named[id(t)] = (place, t)
    guards = _unlinked_lists([g for g in guards if id(g.value) not in named], named)
    firsts = list(named.values())
    for root, old in roots:
        kept = _read_items(root, old, slots, guards, firsts, by_tensor)
        guards = kept if kept is not None else guards + _held_guard(fn, root, old, slots)
    held = {(id(c), k): obj for c, k, obj, _ in snap.roots}
    for place in {p for p, _ in rebound if type(p) is NamePlace}:
        old = held.get((id(place.container), place.key))
        if isinstance(old, Tensor):     # (`h = f(h)` where h0 is h too: read as h0)
            guards += _held_guard(fn, place, old, slots)
    return guards, firsts


def _unlinked_lists(guards, named):
    """guards less the identity guard on the attribute holding a list whose tensor items are
    all read through it now (a ListVia): a new list there is read, not retraced for."""
    lists = {id(real(p.container)): p.container for p, _ in named.values()
             if type(p.container) is ListVia}
    held = {id(g.container) for g in guards}    # (items still lifted by identity)
    return [g for g in guards if not (id(g.value) in lists and id(g.value) not in held
                                      and g.container is lists[id(g.value)].d)]


def _kept_place(container, key, label, snap):
    """Where a tensor that does not require grad is read on every call when container[key] is
    an attribute of one of the user's objects the step reaches (not a Module's registry, not
    stepjit's own objects: an optimizer's state stays lifted by identity), or an item of a list
    such an attribute holds (through the attribute, attr_lists.py): what a trainer keeps between
    calls, `self.tot_loss` and `self.tot_mets[i]` a callback accumulates into, `self.loss` the
    runner rebinds each call. TorchDynamo reads such a tensor through its source and guards its
    shape and dtype; a new object there (a new epoch's total) is read, not retraced for. None
    elsewhere."""
    if type(container) is list:
        lv = attribute_of(container, snap)
        return None if lv is None else NamePlace(lv, key, label)
    entry = snap.attrs.get(id(container))
    if entry is None or entry[3] or type(key) is not str or key.startswith("_"):
        return None
    return NamePlace(container, key, label)


def _rebound_roots(rebound, snap):
    """(root NamePlace, what it held before the trace) for each name the trace rebinds to a
    tuple or list (rebound: the trace's escapes)."""
    roots = {}
    for place, _ in rebound:
        root = getattr(place, "root", None)
        if root is not None:
            roots.setdefault(root, None)
    held = {(id(c), k): obj for c, k, obj, _ in snap.roots}
    for d, before, _, _ in snap.attrs.values():
        held.update(((id(d), k), v) for k, v in before.items() if type(v) in (tuple, list))
    return [(r, held[(id(r.container), r.key)]) for r in roots
            if (id(r.container), r.key) in held]


def _leaves(old):
    flat = structures.flatten(old)
    return [] if flat is None else [t for _, t in flat[1]]


def _read_items(root, old, slots, guards, firsts, direct):
    """Turn the ("obj", t) slots of the tensors of the tuple or list `old` that root held
    before the trace into ("name", ItemPlace) slots, when nothing but root reaches them (no
    other name, direct: id -> places, nor another path's binding guard); drop root's guards.
    Returns the guards kept."""
    flat = structures.flatten(old)
    if flat is None or flat[0] is None:
        return None
    inside = {id(c) for c in flat[2]}
    ids = {id(t) for _, t in flat[1]} | inside
    if len(ids) != len(flat[1]) + len(flat[2]) or any(i in direct for i in ids):
        return None
    own = {id(g) for g in guards if id(g.container) in inside or (
        g.container is root.container and g.key == root.key)}
    if any(id(g.value) in ids for g in guards if id(g) not in own):
        return None     # also reached through another path: lifted by identity
    by_id = {id(t): path for path, t in flat[1]}
    for spec in slots:
        kind, t = spec.slot
        if kind == "obj" and id(t) in by_id:
            spec.slot = ("name", structures.ItemPlace(root, by_id[id(t)]))
    firsts.append((root, old))
    return [g for g in guards if id(g) not in own]


def _held_guard(fn, root, old, slots):
    """The tensor `old`, or items of the container `old`, lifted by identity while the step
    rebinds root (the binding search, after the trace, no longer finds them through it): a
    guard that root still holds old, so that the next call, reading the fresh value, traces
    again."""
    flat = structures.flatten(old)
    items = {id(t) for _, t in flat[1]} if flat is not None else set()
    segments = [s.segment for s in slots if s.slot[0] == "obj" and id(s.slot[1]) in items]
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if not segments or code is None:
        return []
    return [BindingGuard(root.container, root.key, old, root.label, min(segments), def_loc(fn))]


def rebound_names(fn, escapes, state, snap=None, read=()):
    """Split the trace's escapes (tensor, Value) into those only fn's names hold, returned
    as (NamePlace, Value) rebinds, or (LeafPlace, Value) for a tuple or list of them a name
    holds (structures.py), and the others, returned as they are. state: the ids of escaping
    leaves that require grad (never rebound); snap: values.snapshot's, taken before the trace
    (the lists that existed then, the attributes of the objects the step reaches); read: the
    ids of the tensors the trace read (tracer.touched)."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return escapes
    cells = {id(cell): name for name, cell in zip(code.co_freevars, fn.__closure__ or ())}
    glob = getattr(fn, "__globals__", {})
    named = _named_ids(glob, fn.__closure__ or ())
    made = {id(t) for t, _ in escapes if id(t) not in state}
    existing = set(snap.sizes) if snap is not None else set()
    attrs = _rebound_attrs(snap)
    tensor_attrs = _rebound_attrs(snap, made, read) + _rebound_items(snap, made)
    structs = structures.candidates(_names(glob, code, fn.__closure__ or ()) + attrs, made, existing)
    inner = {id(c) for _, flat in structs for c in flat[2]}
    # (gc.get_referrers scans every object of the process: only a tensor one of fn's names
    # holds can be rebound, so the others are not looked for, and those are looked for in one
    # scan, not one each)
    wanted = [t for t, _ in escapes if id(t) in made and id(t) in named]
    wanted += [x for _, flat in structs for x in [t for _, t in flat[1]] + flat[2]]
    wanted += [t for _, _, _, t in tensor_attrs if id(t) not in named]
    ours = {id(e) for e in escapes} | {id(escapes), id(attrs)} | {id(a) for a in attrs}
    ours |= {id(tensor_attrs)} | {id(a) for a in tensor_attrs}
    for _, (_, leaves, containers) in structs:    # (the search's own lists refer to them)
        ours |= {id(leaves), id(containers)} | {id(x) for x in leaves}
    roots = {(id(c), k): NamePlace(attribute_of(c, snap) or c if type(c) is list else c, k, label)
             for c, k, label, _ in attrs + tensor_attrs}
    places = _places_of(wanted, glob, cells, ours, inner, roots) if wanted else {}
    for root, flat in structs:
        tensors = [t for _, t in flat[1]]
        # (an item may also be a name's or an attribute's, rebound with it: d2l's decoder keeps
        # each block's `attention.attention_weights` in `self._attention_weights[0][i]` too)
        if places.get(id(flat[2][0])) != [root] or any(
                places.get(id(x)) != [] for x in flat[2][1:]) or any(
                places.get(id(t)) is None for t in tensors):
            for t in tensors:   # held elsewhere too, or by another name: state
                places[id(t)] = None
            continue
        for t, leaf in structures.leaf_places(root, flat):
            places[id(t)] = [leaf] + places[id(t)]
    out = []
    for t, v in escapes:
        found = places.get(id(t))
        if not found:
            out.append((t, v))
        else:
            out.extend((p, v) for p in found)
    return out


def _rebound_attrs(snap, made=None, read=()):
    """(attribute dict, key, label, object) for each attribute of an object the step reaches
    that it bound to another tuple or list (`self.hidden = (h, c)`); with made (ids), to a
    tensor the step made instead (minGPT's trainer: `logits, self.loss = model(x, y)`), which
    is rebound after every call as a global is (module docstring). Not one whose old tensor
    the trace read (ids in read): rebinding.py made the new value that tensor's storage where
    it could; where it could not (d2l's batch norm: `self.moving_mean = ...` turns a float32
    running mean float64) the trace lifted the old object, which no name holds any more to be
    guarded, and a replay would read it again: the trace describes that call only."""
    out = []
    for d, before, label, _ in (snap.attrs.values() if snap is not None else ()):
        for k, v in list(d.items()):
            if type(k) is not str or before.get(k) is v:
                continue
            if made is not None and id(before.get(k)) in read:
                continue
            if (type(v) in (tuple, list) if made is None else id(v) in made):
                out.append((d, k, f"{label}.{k}", v))
    return out


def _rebound_items(snap, made):
    """(list, index, label, tensor) for each item of a list the step reaches that held a
    number before the trace and now holds a tensor the step made (fastai's `self.tot_mets =
    [0.] * n` reset per epoch, then `self.tot_mets[i] += metric * bn`): rebound after every
    call, as an attribute is (module docstring)."""
    out = []
    for c, before, label, _ in (snap.sizes.values() if snap is not None else ()):
        if type(c) is not list or len(c) != len(before):
            continue
        for i, (v, old) in enumerate(zip(c, before)):
            if id(v) in made and type(old) in (int, float):
                out.append((c, i, f"{label}[{i}]", v))
    return out


def _names(glob, code, closure):
    """(container, key, label, object) for fn's globals its code names and its cells."""
    out = [(glob, k, f"global {k}", glob[k]) for k in sorted(global_names(code)) if k in glob]
    for name, cell in zip(code.co_freevars, closure):
        try:
            out.append((cell, None, f"closure variable {name}", cell.cell_contents))
        except ValueError:
            pass
    return out


def _named_ids(glob, closure) -> set:
    """The ids of the objects fn's globals and closure cells hold."""
    ids = {id(v) for v in glob.values()}
    for cell in closure:
        try:
            ids.add(id(cell.cell_contents))
        except ValueError:   # an empty cell
            pass
    return ids


def _places_of(objs, glob, cells, ours, inner=frozenset(), attrs=None) -> dict:
    """id(x) -> the names holding x, for each x of objs (tensors, and the containers of
    rebound structures) that nothing but those names, the trace's own lists (ours) and the
    structures' own containers (inner: ids) refers to; [] for one held only by those.
    attrs: (id(__dict__), key) -> NamePlace, the attributes rebound to a container."""
    wanted = {id(t) for t in objs}
    places = {i: [] for i in wanted}
    args = tuple(objs)   # (the call's own argument tuple, a referrer of each: skipped)
    for ref in gc.get_referrers(*args):
        if id(ref) in ours or isinstance(ref, types.FrameType) or ref is objs or ref is args:
            continue
        if ref is glob:
            for k, v in list(glob.items()):
                if id(v) in places and places[id(v)] is not None:
                    places[id(v)].append(NamePlace(glob, k, f"global {k}"))
            continue
        if id(ref) in inner:
            continue        # a rebound structure's container holding its items
        if attrs and type(ref) in (dict, list) and _attr_places(ref, attrs, places):
            continue
        held = [id(x) for x in gc.get_referents(ref) if id(x) in wanted]
        if type(ref) is types.CellType and id(ref) in cells:   # (fn's cells stay alive)
            for i in held:
                if places[i] is not None:
                    places[i].append(NamePlace(ref, None, f"closure variable {cells[id(ref)]}"))
        else:
            for i in held:
                places[i] = None    # also held elsewhere: state, not a name's value
    return places


def _attr_places(d, attrs, places) -> bool:
    """d is an object's attributes (or a list whose items the step rebound): its rebound
    containers get their places, anything else of interest it holds is held elsewhere. False
    when d is not one of those objects'."""
    found = False
    for k, v in list(d.items() if type(d) is dict else enumerate(d)):
        place = attrs.get((id(d), k)) if type(k) in (str, int) else None
        if place is not None:
            found = True
            if places.get(id(v)) is not None:
                places[id(v)].append(place)
        elif id(v) in places:
            places[id(v)] = None
    return found


class with_traced_names:
    """While the traced call itself runs (after the Python step ran), its names hold what they
    held when the trace began; afterwards, what the step left in them, except the names the
    run's write-back rebound (a (NamePlace, Value) escape)."""

    def __init__(self, trace):
        self.first = list(trace.named_first)
        self.rebound = {getattr(t, "root", t) for t, _ in trace.escapes
                        if isinstance(t, NamePlace)}
        trace.named_first.clear()   # the traced tensors are not kept past this run (nor by the
                                    # tree's copy of the trace, which shares the list)

    def __enter__(self):
        self.left = [(place, place.raw()) for place, _ in self.first]
        for place, t in self.first:
            place.bind(t)

    def __exit__(self, *exc):
        for place, obj in self.left:
            if place not in self.rebound:
                place.bind(obj)


# (structures.py builds on this module's NamePlace: imported once both exist)
from . import structures  # noqa: E402
