"""Batches held in a record the loop rebinds: tensors read through a path, every call.

A training loop often hands its step a batch that is not a bare tensor but a record of them,
bound to a name the loop rebinds before each call:

    for batch in loader:                    # a tuple, a dict, or an object per batch
        step()                              # ... which reads batch[0], batch["input_ids"],
                                            #     batch.src (torchtext's Batch)

sources.py reads a tensor bound directly to a name through that name; a tensor one container
further in is lifted by identity, with the links of its path guarded (bindings.py), so a new
record per call fails a binding guard and every call traces again, until the recompile limit
makes the step run eagerly. TorchDynamo guards such a path by the types and keys of the
containers on it and treats the tensor at its end as a graph input; so does stepjit here.

A global or closure variable of the step that held, when the trace began, a record (a tuple,
list or dict, or an instance of a plain class: not a Module, an Optimizer or a Tensor) whose
lifted tensors are reached through no other name, has those tensors read through their path
on every call (a FieldPlace "name" slot, checked like an argument), and its binding and value
guards replaced by one RecordGuard: the record's fingerprint (the type, keys and length of
every container walked, each scalar's value, the identity of any other object, a mark for
each tensor) is the one traced. So a new batch of the same structure replays the trace, and
one of another structure, or holding another label count or another dataset, traces again.

Not turned (the old guards stay, which trace again for a new record), because it is state
rather than a batch: a record holding a tensor that requires grad (weights), a Module, an
Optimizer, a function or a float (a hyperparameter, read per call once it changes:
symbolic.py); one whose tensors the step writes or rebinds, whose containers the step changed,
whose tensors the step made, or whose numbers the trace reads per call or other names reach;
records deeper than _MAX_DEPTH or with more than _MAX_LEAVES entries.
"""
from __future__ import annotations

import types

from ..nn.modules.module import Module
from ..optim.optimizer import Optimizer
from ..ir.graph import Value
from ..tensor import Tensor
from .helpers import def_loc
from .hyperparams import PyGuard
from .sources import NamePlace, is_direct_name
from .structures import ItemPlace

_MAX_DEPTH = 3
_MAX_LEAVES = 64
_SCALARS = (int, bool, str, bytes, type(None))
_TENSOR = ("tensor",)


class NotRecord(Exception):
    """The object is not a record whose tensors can be read through a path."""


class FieldPlace(ItemPlace):
    """The tensor at `path` inside what a NamePlace (root) holds: steps ("item", i) of a tuple
    or list, ("key", k) of a dict, ("attr", name) of an object's __dict__, each taken only
    from a container of the traced type."""
    __slots__ = ("types",)

    def __init__(self, root, path, types_):
        super().__init__(root, path)
        self.types = types_
        self.label = root.label + "".join(_step_text(s) for s in path)

    def at(self, obj):
        for (kind, key), klass in zip(self.path, self.types):
            if type(obj) is not klass:
                return None
            obj = _child(obj, kind, key)
        return obj

    def raw(self):
        return self.at(self.root.raw())

    def __eq__(self, other):
        return super().__eq__(other) and other.types == self.types

    def __hash__(self):
        return super().__hash__()


def _child(obj, kind, key):
    if kind == "item":
        return obj[key] if key < len(obj) else None
    if kind == "key":
        return obj.get(key)
    return vars(obj).get(key)


def _step_text(step):
    kind, key = step
    return f".{key}" if kind == "attr" else f"[{key!r}]"


class RecordGuard(PyGuard):
    """The record a name holds has the traced fingerprint (see the module docstring)."""
    __slots__ = ()

    def failed(self):
        obj = self.container.raw()
        try:
            now = fingerprint(obj)
        except NotRecord:
            now = None
        if now == self.value:
            return None
        return (f"{self.label} holds a record of another structure than the traced one "
                f"(now {type(obj).__name__}; read at {self.loc}  {self.loc.text})")

    def same_as(self, other) -> bool:
        return (type(other) is RecordGuard and other.container == self.container
                and other.value == self.value)


def _is_record(obj) -> bool:
    if type(obj) in (tuple, list, dict) or isinstance(obj, tuple):
        return True
    d = getattr(obj, "__dict__", None)
    return (type(d) is dict and not isinstance(obj, (Tensor, Module, Optimizer, type,
                                                       types.ModuleType, types.FunctionType))
            and not callable(obj))


def _entries(obj):
    """(step, child) for each entry of a record container."""
    if isinstance(obj, (tuple, list)):
        return [(("item", i), x) for i, x in enumerate(obj)]
    if type(obj) is dict:
        if any(type(k) not in (str, int) for k in obj):
            raise NotRecord
        return [(("key", k), x) for k, x in obj.items()]
    return [(("attr", k), x) for k, x in vars(obj).items() if not k.startswith("__")]


def walk(obj, visit, path=(), types_=(), depth=0, count=None):
    """The record's fingerprint; visit(path, types, tensor) for every tensor in it and
    visit(path, types, container) for every container walked (path None for those)."""
    count = count if count is not None else [0]
    count[0] += 1
    if count[0] > _MAX_LEAVES:
        raise NotRecord
    if isinstance(obj, Tensor):
        if obj._requires_grad:
            raise NotRecord     # a weight: state, lifted by identity
        visit(path, types_, obj)
        return _TENSOR
    if type(obj) in (float, complex):
        raise NotRecord     # a hyperparameter: state, read per call once it changes (symbolic.py)
    if type(obj) in _SCALARS:
        return (type(obj), obj)
    if isinstance(obj, (Module, Optimizer)) or callable(obj):
        raise NotRecord     # a holder of the model or the optimizer: state, not a batch
    if depth > _MAX_DEPTH or not _is_record(obj):
        return ("object", id(obj))     # another object: the same one, by identity
    visit(None, None, obj)
    inner = types_ + (type(obj),)
    return (type(obj), tuple((step, walk(x, visit, path + (step,), inner, depth + 1, count))
                             for step, x in _entries(obj)))


def fingerprint(obj):
    if not _is_record(obj):
        raise NotRecord
    return walk(obj, lambda *a: None)


def read_records(fn, slots, snap, guards, py_inputs):
    """Turn the ("obj", t) slots of tensors held in a record bound to a name of fn into
    ("name", FieldPlace) slots (module docstring). Returns the guards kept plus a RecordGuard
    per record, (root NamePlace, record) for each record (what the names held when the trace
    began: sources.with_traced_names), and the records' containers and links (Walked), whose
    guards the RecordGuards replace."""
    lifted = {id(s.slot[1]): s for s in slots if s.slot[0] == "obj"}
    kept, firsts, walked = list(guards), [], Walked()
    for container, key, obj, label in snap.roots:
        if not lifted or not is_direct_name(container, key, fn) or not _is_record(obj):
            continue
        found = _record(obj, (container, key), lifted, snap, kept, py_inputs)
        if found is None:
            continue
        shape, tensors, containers = found
        root = NamePlace(container, key, label)
        for path, types_, t in tensors:
            spec = lifted.pop(id(t))
            spec.slot = ("name", FieldPlace(root, path, types_))
        walked.add(containers, (container, key))
        kept = [g for g in kept if not walked.replaced(g)]
        segment = min(s.segment for s in slots if isinstance(s.slot[1], FieldPlace)
                      and s.slot[1].root is root)
        kept.append(RecordGuard(root, None, shape, label, segment, def_loc(fn)))
        firsts.append((root, obj))
    return kept, firsts, walked


class Walked:
    """The containers of the records turned and the links holding them: the guards on them
    (value, length and binding guards, made before or after read_records) are replaced by the
    records' RecordGuards."""

    def __init__(self):
        self.ids = set()
        self.links = []

    def __bool__(self):
        return bool(self.links)

    def add(self, containers, link):
        self.ids |= {id(c) for c in containers}
        self.links.append(link)

    def replaced(self, g) -> bool:
        return type(g) is not RecordGuard and (
            id(g.container) in self.ids or any(_is_link(g, *link) for link in self.links))


def _is_link(g, container, key) -> bool:
    return g.container is container and g.key == key


def _record(obj, link, lifted, snap, guards, py_inputs):
    """(fingerprint, [(path, types, lifted tensor)], [containers]) of a record whose lifted
    tensors may be read through their paths, or None."""
    tensors, containers, seen = [], [], set()

    def visit(path, types_, x):
        if id(x) in seen:
            raise NotRecord     # one object in two places: eager keeps them one
        seen.add(id(x))
        if path is None:
            containers.append(x)
            if not isinstance(x, (tuple, list, dict)):
                containers.append(vars(x))
        elif id(x) in lifted:
            tensors.append((path, types_, x))
        elif isinstance(x._data, Value):
            raise NotRecord     # a tensor the step made, put in the record

    try:
        shape = walk(obj, visit)
    except NotRecord:
        return None
    if not tensors or any(_written(lifted[id(t)]) for _, _, t in tensors):
        return None     # (a tensor the step writes or rebinds in the record: state)
    ids = {id(c) for c in containers}
    if any(id(c) not in snap.paths for c in containers) or _grown(containers, snap):
        return None     # a container the step made, or one it added to or rebound in
    for c, k, v, _, _ in snap.scalars.values():
        if id(c) in ids and _current(c, k) != v:
            return None     # a number the step changed: the value guards' business
    if any(id(p.container) in ids for p in py_inputs):
        return None     # a number read per call from the old record
    mine = {id(t) for _, _, t in tensors} | ids
    for g in guards:
        if id(g.value) in mine and id(g.container) not in ids and not _is_link(g, *link):
            return None     # reached through another name too: lifted by identity
    return shape, tensors, containers


def _grown(containers, snap) -> bool:
    """Did the step add, remove or rebind an entry of one of the record's lists, dicts or
    attribute dicts (a log it appends to, a stats object it updates: state)?"""
    for c in containers:
        seen = snap.sizes.get(id(c)) or snap.attrs.get(id(c))
        if seen is None or seen[0] is not c:
            continue
        before = seen[1]
        if len(before) != len(c):
            return True
        pairs = zip(before, c) if type(c) is list else ((before[k], c.get(k, None))
                                                        for k in before)
        if any(a is not b and not (type(a) in _SCALARS and a == b) for a, b in pairs):
            return True
    return False


def _written(spec) -> bool:
    return spec.data_write is not None or spec.replaced or spec.grad_write is not None


def _current(c, k):
    try:
        return c[k]
    except (KeyError, IndexError, TypeError):
        return None
