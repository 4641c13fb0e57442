"""Guards on the Python values a trace read, and the nondeterministic Python it ran.

A trace bakes in every Python value the step read from outside its arguments: a
global `p = 0.5` in `x * p`, `self.training` in `if self.training:`, `cfg.scale`,
`group['momentum']` in a hand-written optimizer, `lrs[k]`. Replaying it after the
value changed would be silently wrong, so the trace guards those values where they
live (TorchDynamo's rule): the next call after a change retraces.

How the reads are found. Python offers no cheap hook on a read, so the guards are
a superset found in three steps (the same roots as bindings.py's search for lifted
tensors: the step's globals and closure cells, and `self` of a compiled method or
module):

  1. before the trace, `snapshot` records every Python scalar (bool, int, float,
     str, None) reachable from those roots through attributes, Module registries,
     dict entries (and the containers a dict holds under tensor keys: an optimizer's
     per-parameter state) and list/tuple items, bounded like bindings.py (depth, objects,
     items), with the value it holds *then* (a step that changes such a value while
     traced, `self.calls += 1`, must be guarded on the value it read, not the one it
     left);
  2. the names the step may read them through are found without running it: the
     words (co_names, string constants) of the step's code, of the functions its
     globals name, and of the methods of every class whose objects the search met
     (a Module's forward, an optimizer's step);
  3. after the trace, a scalar is guarded when the last link of its path is one of
     those names (an attribute or global, a dict key) or an item of a list or tuple
     (indexed by a computed position).
     Every list and Module registry on such a path is guarded on its length:
     `opt.add_param_group(...)`, `m.extra = nn.Parameter(...)` between calls retrace.

Python side effects on containers. The lists, dicts, sets and deques met are copied before
the trace and compared after it (side_effects): scalars the step added at the end
(`log.append("step")`, `seen.add(k)`, `counts["a"] = 1`) are taken back and added again by
the write-back of every call, traced or replayed (a PyAppend among the trace's writes), so a
replay makes them as eager does; a value that changes per call (`log.append(len(log))`) shows
as other writes at the trace's first re-verification (stale: per-call). Any other change (an
object appended, an entry removed or replaced, a deque) only the step's Python can make: the
trace describes that call only and the step runs its Python on every call (trace.per_call).
A container some trace added to is not guarded on its length or items, on any path: the step
writes it rather than reads it. A bool the step set while traced (`model.train()` inside a
step that runs after an eval step, a flag), a str or None (`board.xlabel = 'epoch'`, None
until the first call) is guarded on the value it read and the value it left is replayed after
every call (a PyWrite, applied with the tensor write-backs): the same Python, given the same
guarded values, sets the same value; one that changes on two calls in a row makes the runtime
trace the step per call (runtime/compiled.py, _went_volatile). So is a number set where
a number is read per call once it changes (`liftable`: `step += 1` on a global counter,
`self.calls += 1`; symbolic.py), its old value given back to the place for the call's
program; the next trace after a change reads the place per call, and the graph computes
what the step leaves there (results.py, as for `running_loss += loss.item()`). Any other
scalar the step changed while traced (a number it made another kind of value) is a write that depends on
what it read, so the trace describes that call only (`changed_values`): the runtime traces
the step on every call, as for a nondeterministic call below, and says which value made it.

A value that is not a scalar but holds scalars (a tuple of sizes) is reached item
by item. The functions the step may call (helpers.py) are roots too: their globals and
cells, searched the same way, their words among the names. Not guarded: objects the search
does not enter (bindings._OPAQUE, NumPy arrays), values past its bounds, the namespaces of
functions helpers.py does not find, and values a helper computes from C state the search
cannot see. Objects' attribute dicts are compared as containers are: a scalar attribute
added is replayed, one bound to another object makes the step run every call.

Nondeterministic Python. While the step is traced, the functions of Python's
`random` and `time`, NumPy's global random functions, `open` and `os.urandom`
are wrapped (module attributes, restored after): the first one the user's code
calls is named with its line. So is `next()` on an iterator something else holds (its position
is state the snapshot cannot see). Draws that go around the wrappers (`from random
import randint` bound earlier) show as a move of Python's or NumPy's global
random state, named with the step's `def` line. A trace that met one describes
that call only; the runtime then retraces the step on every call (compiled.py),
reusing programs by structural hash, with one warning naming the call and line.
"""
from __future__ import annotations

import builtins
import functools
import os
import random as _random
import sys
import sysconfig
import time as _time
import types
from collections import deque

import numpy as np

from ..errors import _PKG_DIR
from .attr_lists import ListVia
from ..ir.graph import Loc
from .bindings import (_MAX_DEPTH, _MAX_ITEMS, _MAX_OBJECTS, _OPAQUE, _REGISTRIES,
                       BindingGuard, searched_dict)
from .helpers import (Helpers, def_loc, default_roots, global_names, is_user_file, line_of_change,
                      roots_of, running_callers)
from .hyperparams import _MISSING, PyGuard
from ..tensor import Tensor

_SCALARS = (bool, int, float, str, type(None))
_CONSTANTS = (bool, str, type(None))   # set by the step: guarded, then replayed (value_guards)
# NumPy arrays the step may read, guarded by value up to this many elements (an index batch, a
# mask); a larger one on an attribute, a list or a dict is data: an input of the trace read
# through its place on every call (arrays.NamedArrays), never guarded by a copy
_MAX_ARRAY = 1 << 12
_CALLABLES = (types.FunctionType, types.MethodType, functools.partial)
_MAX_SEQUENCE = 64      # a longer list or tuple is data (a dataset), not entered
_COLLECTIONS = (list, dict, set, deque)


# -- the guards --------------------------------------------------------------------------------
# The ValueGuard that failed last (the runtime reads it when a call leaves the tree, to tell a
# value that changes on every call, such as a loop counter, from one changed once).
LAST_FAILED = [None]


def where(guard):
    """What identifies the place a ValueGuard reads, across traces."""
    return (id(guard.container), guard.key)


def where_of(container, key):
    return (id(container), key)

class ValueGuard(PyGuard):
    """container[key] (a dict: globals, an object's __dict__, a dict entry; a list; or a
    closure cell, key None) still holds a value of the traced one's type, equal to it."""
    __slots__ = ()

    def current(self):
        return _current(self.container, self.key)

    def failed(self):
        x = self.current()
        if type(x) is type(self.value) and (x == self.value or x != x and self.value != self.value):
            return None
        LAST_FAILED[0] = self
        now = "gone" if x is _MISSING else repr(x)
        return f"{self.label} changed from {self.value!r} to {now} (the trace read {self.value!r})"

    def same_as(self, other) -> bool:
        return (type(other) is ValueGuard and other.container is self.container
                and other.key == self.key and type(other.value) is type(self.value)
                and other.value == self.value)

    def describe(self) -> str:
        return f"{self.label} == {self.value!r}"


class ArrayGuard(PyGuard):
    """container[key] still holds a NumPy array equal to the one the step could read (a copy
    taken before the trace): the step's Python may have read its values (`for i in batch:`
    over an index array the loop rebinds, `x[i]`), which the trace baked in."""
    __slots__ = ()

    def failed(self):
        x = _current(self.container, self.key) if type(self.container) is not tuple \
            else self.container[self.key]
        v = self.value
        if (type(x) is np.ndarray and x.shape == v.shape and x.dtype == v.dtype
                and np.array_equal(x, v, equal_nan=v.dtype.kind in "fc")):
            return None
        LAST_FAILED[0] = self
        return f"{self.label} holds other values than the NumPy array the trace read"

    def same_as(self, other) -> bool:
        return (type(other) is ArrayGuard and other.container is self.container
                and other.key == self.key and other.value.shape == self.value.shape
                and other.value.dtype == self.value.dtype
                and np.array_equal(other.value, self.value))

    def describe(self) -> str:
        return f"{self.label} == {self.value!r}"


class LengthGuard(PyGuard):
    """A list, or a Module's registry of parameters, buffers or submodules, still has as many
    entries (a parameter group or a parameter added between calls)."""
    __slots__ = ()

    def failed(self):
        n = len(self.container)
        if n == self.value:
            return None
        return f"{self.label} now has {n} entries (the trace saw {self.value})"

    def same_as(self, other) -> bool:
        return (type(other) is LengthGuard and other.container is self.container
                and other.value == self.value)

    def describe(self) -> str:
        return f"len({self.label}) == {self.value}"


class PyWrite:
    """container[key] = value after every call: a bool, str or None the step set (value_guards)."""
    __slots__ = ("container", "key", "value", "label")

    def __init__(self, container, key, value, label):
        self.container, self.key, self.value, self.label = container, key, value, label

    def apply(self):
        if self.key is None:
            self.container.cell_contents = self.value
        else:
            self.container[self.key] = self.value

    def same_as(self, other, rename=None) -> bool:
        return (type(other) is PyWrite and other.container is self.container
                and other.key == self.key and same_number(other.value, self.value))


def same_number(a, b) -> bool:
    """The same Python value to write back: same type, same value (a float's bits: -0.0 is
    not 0.0, a NaN is itself)."""
    if type(a) is not type(b):
        return False
    return a.hex() == b.hex() if type(a) is float else a == b


def liftable(container, key, value) -> bool:
    """Whether a number at container[key] is read per call once it changes (symbolic.py): a
    float or an int in a dict, a list or a closure cell (a learning rate, a loop variable, an
    accumulator, `seen[0] += n`; runtime/compiled.py)."""
    return type(value) in (float, int) and (type(container) in (dict, list, ListVia)
                                            or key is None)


def _put_back(container, key, value):
    if key is None:
        container.cell_contents = value
    else:
        container[key] = value


def _current(container, key):
    if key is None:                             # a closure cell
        try:
            return container.cell_contents
        except ValueError:
            return _MISSING
    if type(container) is list:
        return container[key] if key < len(container) else _MISSING
    return container.get(key, _MISSING)


# -- step 1: what was reachable before the trace --------------------------------------------
class Snapshot:
    """Scalars reachable from the step's roots before it ran: (container, key) -> value, the
    label of the path, and whether the last link was an item of a list or tuple; and the lists
    and registries met, with their lengths."""

    def __init__(self):
        self.scalars = {}     # (id(container), key) -> (container, key, value, label, name)
        self.arrays = {}      # the same for small NumPy arrays, value a copy (ArrayGuard)
        self.large_arrays = {}  # the same for larger ones, value the array itself: inputs of
                                # the trace read through their place (arrays.NamedArrays)
        self.lengths = {}     # id(container) -> (container, length, label, name the code
                              # must use to reach it: None for an item or a registry)
        self.classes = set()  # classes of the objects entered (their methods' names are read)
        self.tensors = {}     # (id(container), key) -> (container, key, tensor, label): where
                              # tensors were bound (rebinding.py: state the step rebinds)
        self.changed = []     # ChangedValue: scalars the step changed (value_guards finds them)
        self.writes = []      # PyWrite: bools the step set, replayed after every call
        self.set_first = set()  # (id(container), key): numbers the step set, then read per call
        self.sizes = {}       # id(container) -> (container, copy, label, name): the lists,
                              # dicts, sets and deques met, to tell the step's appends
        self.attrs = {}       # id(__dict__) -> (__dict__, copy, label, stepjit's object?)
        self.functions = []   # functions the search met (a list of hooks, `self.log_fn`)
        self.helpers = []     # the functions the step may call (helpers.py), itself first
        self.helper_roots = []  # (container, key, object, label): their names, not the step's
        self.roots = []       # (container, key, object, label): the step's names (roots)
        self.paths = {}       # id(object or its __dict__) -> the links (container, key, object,
                              # label) from a root to that object, the first the search found


def roots(fn):
    """(container, key, object, label) for the step's global names, closure cells and self."""
    owner = getattr(fn, "__self__", None)
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    out = []
    g = getattr(fn, "__globals__", {})
    for name in sorted(global_names(code) & g.keys()):
        out.append((g, name, g[name], f"global {name}"))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            out.append((cell, None, cell.cell_contents, f"closure variable {name}"))
        except ValueError:
            continue
    out += default_roots(fn)
    if owner is not None:
        out.append((None, None, owner, "self"))
    return out



def argument_roots(args):
    """(None, None, object, label) for each object the call's arguments pass as a leaf (a
    model, an optimizer: `train_batch(net, X, y, loss, trainer)`), as `self` of a compiled
    method is a root: the call guards such an argument's identity (fastcall's leaf_value), so
    its attributes are guarded and written back like a global model's (`net.eval()` between
    calls, `self.attention_weights = ...` in its forward). Lists, tuples and dicts are walked,
    not rooted: the next call may pass another container of the same structure."""
    out = []

    def walk(x, label):
        if isinstance(x, (tuple, list)):
            for i, c in enumerate(x):
                walk(c, f"{label}[{i}]")
        elif isinstance(x, dict):
            for k, c in x.items():
                walk(c, f"{label}[{k!r}]")
        elif not isinstance(x, _SCALARS + (Tensor, np.ndarray) + _CALLABLES) \
                and searched_dict(x) is not None:
            out.append((None, None, x, label))
    for i, a in enumerate(args):
        walk(a, f"argument {i}")
    return out


def snapshot(fn, args=()) -> Snapshot:
    snap = Snapshot()
    rooted = set()
    snap.roots = roots(fn) + argument_roots(args)
    for container, key, obj, label in snap.roots:
        rooted.add((id(container), key))
        _search(snap, container, key, obj, label)
    step = getattr(fn, "__func__", fn)
    if getattr(step, "__code__", None) is None:
        return snap
    # The functions the step may call have namespaces of their own (helpers.py): their
    # globals and cells are roots too, and what those hold may name more functions.
    found = Helpers(step, running_callers(step))
    for a in args:       # (a function handed to the step: `step(x, log_fn)`)
        found.add(a)
    done = 0
    while True:
        for klass in snap.classes:
            found.add(klass, constructed=False)
        for f in snap.functions:
            found.add(f)
        snap.functions.clear()
        found.expand()
        if done == len(found.functions):
            break       # (the step itself first: its module's attributes it names)
        for f in found.functions[done:]:
            for root in roots_of(f, step.__globals__):
                container, key, obj, label = root
                if (id(container), key) not in rooted:
                    rooted.add((id(container), key))
                    snap.helper_roots.append(root)
                    _search(snap, container, key, obj, label)
        done = len(found.functions)
    snap.helpers = found.functions
    return snap


def _search(snap, container, key, root, label):
    queue = deque([(container, key, root, label, key, 0, ())])
    seen = set()
    while queue and len(seen) < _MAX_OBJECTS:
        c, k, obj, text, name, depth, path = queue.popleft()
        if isinstance(obj, _SCALARS):
            if c is not None and not isinstance(c, tuple):   # (namedtuples too)
                snap.scalars.setdefault((id(c), _hashable(k)), (c, k, obj, text, name))
            continue
        if isinstance(obj, Tensor):
            if c is not None and not isinstance(c, tuple):   # (namedtuples too)
                snap.tensors.setdefault((id(c), _hashable(k)), (c, k, obj, text))
            continue
        if type(obj) is np.ndarray:
            if c is not None and obj.size <= _MAX_ARRAY:
                snap.arrays.setdefault((id(c), _hashable(k)), (c, k, obj.copy(), text, name))
            elif c is not None and not isinstance(c, tuple):
                snap.large_arrays.setdefault((id(c), _hashable(k)), (c, k, obj, text, name))
            continue
        if type(obj) in _CALLABLES:
            snap.functions.append(obj)
            continue
        if id(obj) in seen or depth >= _MAX_DEPTH:
            continue
        seen.add(id(obj))
        path += ((c, k, obj, text),)
        snap.paths.setdefault(id(obj), path)
        d = searched_dict(obj) if not isinstance(obj, (dict, list, tuple)) else None
        if d is not None:
            snap.paths.setdefault(id(d), path)   # (an attribute's container is the __dict__)
        for child_c, child_k, child, link, child_name in _children(snap, obj, text, name):
            queue.append((child_c, child_k, child, text + link, child_name, depth + 1, path))


def _children(snap, obj, text, name):
    """(container, key, child, link text, name the code must use) for each way into obj."""
    if isinstance(obj, _OPAQUE) or hasattr(obj, "__array_interface__"):
        return []
    if isinstance(obj, _COLLECTIONS):   # (before the bound below: a long log grows too)
        if id(obj) not in snap.sizes:
            snap.sizes[id(obj)] = (obj, _copy(obj), text, name)
    if isinstance(obj, dict):
        items = list(obj.items())[:_MAX_ITEMS]
        # A dict keyed by tensors is a hand-written optimizer's per-parameter state
        # (`self.state[p] = {"step": 0, ...}`): its containers are entered, so the counters in
        # them are guarded and, once they change, read per call like any other. A scalar or
        # tensor keyed by a tensor directly is not (guards compare str and int keys by value).
        return [(obj, k, v, f"[{k!r}]", k if type(k) is str else None)
                for k, v in items if type(k) in (str, int)] + \
            [(obj, k, v, f"[<{type(k).__name__} {tuple(k.shape)}>]", None) for k, v in items
             if isinstance(k, Tensor) and isinstance(v, _COLLECTIONS)]
    if isinstance(obj, (list, tuple)):
        if len(obj) > _MAX_SEQUENCE:
            return []       # data, not configuration: a dataset held in a list
        if type(obj) is list:
            snap.lengths.setdefault(id(obj), (obj, len(obj), text, name))
        return [(obj, i, v, f"[{i}]", None) for i, v in enumerate(obj)]
    d = searched_dict(obj)
    if d is None:
        return []
    if getattr(type(obj), "_trace_search", None) is None:
        snap.classes.add(type(obj))     # (not a compiled function's: its words are not the step's)
        if id(d) not in snap.attrs:
            # (a stepjit object's private attributes are its own bookkeeping, kept right in
            # compiled steps by stepjit: DDP's `_ready` set of the gradients its hooks saw)
            own = type(obj).__module__.startswith("stepjit.")
            snap.attrs[id(d)] = (d, dict(d), text, own)
    out = []
    for reg in _REGISTRIES:                 # nn.Module: parameters, buffers, submodules
        r = d.get(reg)
        if isinstance(r, dict):
            snap.lengths.setdefault(id(r), (r, len(r), f"{text}.{reg}", None))
            out += [(r, k, v, f".{k}", None) for k, v in list(r.items())[:_MAX_ITEMS]]
    out += [(d, k, v, f".{k}", k) for k, v in list(d.items())[:_MAX_ITEMS]
            if k not in _REGISTRIES and not k.startswith("__")]
    return out


class _AppendedTensor:
    """Stands, among a PyAppend's items, for a tensor the step appended (`self.losses.append(
    loss)`, results.take_results): each call appends a fresh tensor holding its value."""
    __slots__ = ()

    def __repr__(self):
        return "<tensor>"


APPENDED_TENSOR = _AppendedTensor()


class PyAppend:
    """Entries a step added to a list, dict or set it reaches (`log.append("step")`,
    `seen.add(k)`), added again after every call (a PyWrite of the entries): the same Python,
    given the same guarded values, adds the same scalars. A list's items may be numbers the
    graph computes (`losses.append(loss.item())`, results.py) or tensors it made
    (`self.losses.append(loss)`, APPENDED_TENSOR among the items): `traced` maps their offsets
    among the items to Values, whose numbers, or fresh tensors holding them without autograd
    history (as a compiled step's results), are put there on each call (`put`)."""
    __slots__ = ("container", "items", "label", "traced")

    def __init__(self, container, items, label, traced=None):
        self.container, self.items, self.label = container, items, label
        self.traced = traced or {}

    @property
    def values(self):
        return tuple(self.traced.values())

    def apply(self):
        c = self.container
        if type(c) is list:
            c.extend(self.items)
        else:
            c.update(self.items)

    def put(self, arrays):
        """The items, those the graph computes taken from arrays (in `values`' order)."""
        items = list(self.items)
        for k, a in zip(self.traced, arrays):
            a = a if not hasattr(a, "copy_to_host") else a.copy_to_host()
            items[k] = Tensor._make(np.array(a)) if items[k] is APPENDED_TENSOR else a.item()
        self.container.extend(items)

    def undo(self):
        """The trace's own additions taken back: the write-back makes them on this call too."""
        c = self.container
        if type(c) is list:
            del c[len(c) - len(self.items):]
        elif type(c) is set:
            c.difference_update(self.items)
        else:
            for k, _ in self.items:
                del c[k]

    def same_as(self, other, rename=None) -> bool:
        if type(other) is not PyAppend or other.container is not self.container:
            return False
        if list(other.traced) != list(self.traced) or not all(
                (rename(w) if rename else w) is v
                for v, w in zip(self.traced.values(), other.traced.values())):
            return False
        return _typed(_untraced(other)) == _typed(_untraced(self))

    def renamed(self, rename):
        return PyAppend(self.container, self.items, self.label,
                        {k: rename(v) for k, v in self.traced.items()})

    def describe(self) -> str:
        items = [f"%{self.traced[k].name}" if k in self.traced else repr(x)
                 for k, x in enumerate(self.items)]
        return f"after each call: {self.label} gains [{', '.join(items)}]  (the step adds them)"


def _untraced(append):
    """An append's items, those the graph computes left out (their numbers differ per call)."""
    return [x for k, x in enumerate(append.items) if k not in append.traced]


def _typed(items):
    return [(type(x), x) if not isinstance(x, tuple) else tuple((type(y), y) for y in x)
            for x in items]


# Containers some trace added entries to (id -> (container, held so the id stays its own; the
# keys added to a dict)): the
# step writes a list's length and items rather than reads them, so no trace guards them (a list
# appended to on one branch only would fail the other branch's guard after every call that
# took the first). A later trace that sets such a dict entry or attribute to another bool, str
# or None (`board.ylabel = 'even' if i % 2 == 0 else None`) replays that write (value_guards).
_APPENDED: dict = {}


def side_effects(snap, rebound=frozenset(), traced=None):
    """(PyAppends, None) for the entries the step added to the lists, dicts and sets it
    reaches while traced, each added only at the end, of scalars, the old entries left as
    they were, and for the scalar attributes it added to objects; or (_, ChangedValue) for the
    first container or object changed otherwise (a deque, an object appended, an entry
    removed, an attribute bound to another object), whose change only running the step's
    Python can make. traced: id(list) -> {offset among its new items: Value}, the numbers the
    graph computes (results.take_results)."""
    out = []
    traced = traced or {}
    for c, before, label, name in snap.sizes.values():
        if len(c) == len(before) and (type(c) is not set or c == before):
            if isinstance(c, dict) and _replaced_under_object_key(c, before):
                return out, _changed(snap, label, name, container=True)
            continue
        added = _added(c, before)
        if added is None:
            if _grew_at_end(c, before):
                # (a log of objects, `self.plots.append(pred.numpy())` on a plotting call: a
                # container the step writes, not one it reads, as for appended scalars)
                _appended([], c, (), label)
            return out, _changed(snap, label, name, container=True)
        _appended(out, c, added, label, traced.get(id(c)))
    for d, before, label, own in snap.attrs.values():
        added = []
        for k, v in list(d.items()):
            if own and k.startswith("_"):
                continue
            old = before.get(k, _MISSING)
            if old is v or isinstance(v, Tensor) or isinstance(old, Tensor) \
                    or (id(d), k) in rebound:
                continue     # (tensors, tuples of them: state the step made or rebinds,
                             # trace.py's escapes, sources.py)
            if old is _MISSING and isinstance(v, _SCALARS) and type(k) is str:
                added.append((k, v))
            elif old is _MISSING or not (isinstance(v, _SCALARS) and isinstance(old, _SCALARS)):
                return out, _changed(snap, f"{label}.{k}", k)
        gone = next((k for k in before if k not in d and not (own and k.startswith("_"))), None)
        if gone is not None:
            return out, _changed(snap, f"{label}.{gone}", gone)
        if added:       # (a scalar replaced by another is value_guards': guarded or replayed)
            _appended(out, d, tuple(added), label)
    return out, None


def _replaced_under_object_key(c, before) -> bool:
    """An entry under a key that is not a str or int (`seen[p] += 1`, p a parameter) holds
    another value: no guard reads such an entry (guards compare keys by value), so only the
    step's Python can make the change again. Tensors there are the escapes' and rebinding's."""
    for k, v in c.items():
        if type(k) in (str, int):
            continue
        old = before.get(k, _MISSING)
        if old is not v and not isinstance(v, Tensor) and not isinstance(old, Tensor):
            return True
    return False


def _appended(out, c, added, label, traced=None):
    out.append(PyAppend(c, added, label, traced))
    if len(_APPENDED) > 4096:
        _APPENDED.clear()
    keys = _APPENDED.setdefault(id(c), (c, set()))[1]
    if isinstance(c, dict):
        keys.update(k for k, _ in added)


def _changed(snap, label, name, container=False):
    """A ChangedValue for what label names, at the line of the step or its helpers that may
    have changed it (else the step's def line)."""
    loc = None
    if type(name) is str:
        loc = line_of_change(name, snap.helpers, container)
    return ChangedValue(label, loc or def_loc(snap.helpers[0] if snap.helpers else None))


def _added_key(c, k) -> bool:
    entry = _APPENDED.get(id(c))
    return entry is not None and k in entry[1]


def _set_added_key(snap, c, k, v, label):
    """An entry some trace added, which the step writes rather than reads (not guarded), set
    to another bool, str or None by this trace: its replays set it too, or a call on this path
    would keep the value another path left."""
    now = _current(c, k)
    if type(v) in _CONSTANTS and type(now) in _CONSTANTS and not same_number(v, now):
        snap.writes.append(PyWrite(c, k, now, label))


def _grew_at_end(c, before) -> bool:
    return (type(c) is list and len(c) > len(before)
            and all(a is b for a, b in zip(c, before)))


def _added(c, before):
    if type(c) is list:
        n = len(before)
        if len(c) < n or any(a is not b for a, b in zip(c, before)):
            return None
        items = tuple(c[n:])
        return items if all(isinstance(x, _SCALARS) or x is APPENDED_TENSOR
                            for x in items) else None
    elif type(c) is set:
        if not before <= c:
            return None
        items = frozenset(c - before)
    elif isinstance(c, dict):
        if any(k not in c or c[k] is not v for k, v in before.items()):
            return None
        items = tuple((k, v) for k, v in c.items() if k not in before)
        if not all(isinstance(k, _SCALARS) for k, _ in items):
            return None
        return items if all(isinstance(v, _SCALARS) for _, v in items) else None
    else:
        return None
    return items if all(isinstance(x, _SCALARS) for x in items) else None


def _copy(c):
    return dict(c) if isinstance(c, dict) else set(c) if isinstance(c, set) else list(c)


def _hashable(k):
    return k if type(k) in (str, int) or k is None else ("object", id(k))


# -- step 2: what ran during the trace --------------------------------------------------------
class Nondeterministic:
    """A call whose result differs between calls with the same inputs, met during a trace."""
    __slots__ = ("what", "loc")

    def __init__(self, what, loc):
        self.what = what
        self.loc = loc

    def __str__(self):
        return f"{self.what} at {self.loc}  {self.loc.text}"

    def reason(self):
        return f"the step calls {self.what} (at {self.loc})"

    def sentence(self, name):
        return (f"stepjit: {name}: the step calls {self.what} at {self.loc}: `{self.loc.text}`, "
                "whose result changes from call to call; a compiled trace would replay the value "
                "it got once, so the step is traced again on every call (its compiled programs "
                "are reused by structural hash)")


class ChangedValue(Nondeterministic):
    """A Python scalar the step changed while traced: a replay would not change it."""
    __slots__ = ()

    def reason(self):
        return f"the step changes {self.what} (at {self.loc})"

    def sentence(self, name):
        return (f"stepjit: {name}: the step changes {self.what} at {self.loc}: `{self.loc.text}`;"
                " a compiled trace would not make that change again, so the step is traced again on every call "
                "(its compiled programs are reused by structural hash)")




_STDLIB = tuple({os.path.abspath(sysconfig.get_paths()[k]) + os.sep
                 for k in ("stdlib", "platstdlib")})
_USER_CODE: dict = {}


def _is_user_code(path):
    known = _USER_CODE.get(path)
    if known is None:
        full = os.path.abspath(path)
        known = _USER_CODE[path] = not (full.startswith(_PKG_DIR) or full.startswith(_STDLIB)
                                        or path.startswith("<frozen"))
    return known


class Watch:
    """While the step is traced: Python's `random` and `time` functions and `open` are wrapped
    (module attributes, restored after) to tell the first one the user's code calls, with its
    line; the global random states of Python and NumPy are compared before and after, for
    draws that went around the wrappers (`from random import randint` bound before, NumPy's
    functions). A profile hook would see every call, but costs about as much as the trace."""

    def __init__(self, step_loc=None, draws=None, defer=None):
        self.step_loc = step_loc
        self.nondeterministic = None
        self.printed = None         # Loc of the first print() the user's code made
        self.defer = defer          # (args, kwargs, loc) -> a PyPrint, or None (printing.py)
        self.deferred = []          # the prints left to every call's write-back
        self._saved = []
        self.draws = draws          # draws.Draws: NumPy's global draws, inputs of the trace

    def __enter__(self):
        self._states = (_random.getstate(), _numpy_state())
        if self.draws is not None:
            self.draws.begin(_numpy_state, self._states[1])
        for module, name in _WATCHED:
            fn = getattr(module, name, None)
            if fn is not None and not getattr(fn, "_stepjit_watch", False):
                self._saved.append((module, name, fn))
                wrap = self._wrap_draw if module is np.random and self.draws else self._wrap
                setattr(module, name, wrap(fn, _describe(module, name)))
        if not getattr(builtins.print, "_stepjit_watch", False):
            self._saved.append((builtins, "print", builtins.print))
            builtins.print = self._wrap_print(builtins.print)
        if not getattr(builtins.next, "_stepjit_watch", False):
            self._saved.append((builtins, "next", builtins.next))
            builtins.next = self._wrap_next(builtins.next)
        return self

    def __exit__(self, *exc):
        for module, name, fn in reversed(self._saved):
            setattr(module, name, fn)
        self._saved = []
        if exc[0] is not None:      # (the step raised: no write-back will print them)
            for p in self.deferred:
                p.apply()
            self.deferred.clear()
        if self.nondeterministic is None:
            py, np_ = self._states
            if _random.getstate() != py:
                self._note("Python's random (its global state moved while the step ran)")
            elif self.draws.moved_around() if self.draws else _numpy_state() != np_:
                self._note("numpy.random (its global state moved while the step ran)")
        return False

    def _note(self, what):
        self.nondeterministic = Nondeterministic(what, self.step_loc)

    def _wrap(self, fn, what):
        watch = self

        def watched(*args, **kwargs):
            if watch.nondeterministic is None:
                watch._found(what, sys._getframe(1))
            return fn(*args, **kwargs)
        watched._stepjit_watch = True
        watched.__wrapped__ = fn
        return watched

    def _wrap_draw(self, fn, what):
        """A NumPy global draw: with constant arguments, made once here and taken as an input
        of the trace, which each call draws again (draws.py); otherwise noted as _wrap does."""
        watch = self

        def watched(*args, **kwargs):
            frame = sys._getframe(1)
            frozen = watch.draws.frozen(args, kwargs) if _is_user_frame(frame) else None
            if frozen is not None:
                watch.draws.before()
            out = fn(*args, **kwargs)
            if frozen is not None:
                taken = watch.draws.take(fn, what, frozen, out, _loc(frame))
                if taken is not None:
                    return taken
            if watch.nondeterministic is None:
                watch._found(what, frame)
            return out
        watched._stepjit_watch = True
        watched.__wrapped__ = fn
        return watched

    def _wrap_print(self, fn):
        watch = self

        def watched(*args, **kwargs):
            if watch.printed is None:
                loc = _user_loc(sys._getframe(1))
                later = watch.defer(args, kwargs, loc) if watch.defer is not None else None
                if later is not None:
                    watch.deferred.append(later)
                    return None
                watch.printed = loc
                for p in watch.deferred:    # (in the step's order: this call is its own now)
                    p.apply()
                watch.deferred.clear()
            return fn(*args, **kwargs)
        watched._stepjit_watch = True
        watched.__wrapped__ = fn
        return watched

    def _wrap_next(self, fn):
        """`next(it)` on an iterator something else holds (`next(self.data_iter)`, a closure's
        `it`, a generator bound before the loop) moves state no snapshot sees: a replay would
        hand the step the batch it drew once. One made for this call and dropped at once
        (`next(iter(loader))`, `next(model.parameters())`) is the step's own business."""
        watch = self

        def watched(iterator, *default):
            if watch.nondeterministic is None and sys.getrefcount(iterator) > _TEMPORARY_REFS:
                watch._found("next() on an iterator kept between calls", sys._getframe(1))
            return fn(iterator, *default)
        watched._stepjit_watch = True
        watched.__wrapped__ = fn
        return watched

    def _found(self, what, frame):
        """A call made by the user's code (not by stepjit, or by the standard library for its
        own purposes: linecache opening a source file, random's methods calling each other)."""
        if _is_user_frame(frame):
            self.nondeterministic = Nondeterministic(what, _loc(frame))


def _is_user_frame(frame):
    return frame is not None and _is_user_code(frame.f_code.co_filename)


def _loc(frame):
    import linecache
    path, line = frame.f_code.co_filename, frame.f_lineno
    return Loc(path, line, linecache.getline(path, line).strip())


def _refs_of_a_temporary():
    """What sys.getrefcount reports inside a wrapper called as `next(iter(...))` (the caller's
    stack, the wrapper's argument, getrefcount's own): more means someone else holds it."""
    def probe(iterator, *default):
        return sys.getrefcount(iterator)
    return probe(iter(()))


_TEMPORARY_REFS = _refs_of_a_temporary()


def _describe(module, name):
    if module is builtins:
        return f"{name}()"
    return f"{module.__name__}.{name}()"


def _watched():
    import numpy as np
    out = [(_random, n) for n in ("random", "randint", "randrange", "choice", "choices",
                                  "shuffle", "sample", "uniform", "gauss", "normalvariate",
                                  "lognormvariate", "expovariate", "betavariate", "gammavariate",
                                  "triangular", "vonmisesvariate", "paretovariate",
                                  "weibullvariate", "getrandbits", "randbytes", "binomialvariate")]
    out += [(_time, n) for n in ("time", "time_ns", "perf_counter", "perf_counter_ns",
                                 "monotonic", "monotonic_ns", "process_time", "process_time_ns")]
    out += [(np.random, n) for n in ("rand", "randn", "randint", "random", "random_sample",
                                     "choice", "shuffle", "permutation", "normal", "uniform",
                                     "standard_normal", "ranf", "sample", "binomial", "poisson",
                                     "exponential", "beta", "gamma", "laplace", "lognormal",
                                     "geometric", "multinomial", "dirichlet", "bytes")]
    out += [(builtins, "open"), (os, "urandom")]
    return out


_WATCHED = _watched()


def _numpy_state():
    import numpy as np
    state = np.random.mtrand._rand.get_state(legacy=False)
    inner = state["state"]
    return (state["bit_generator"], inner["key"].tobytes() if hasattr(inner.get("key"), "tobytes")
            else repr(inner), inner.get("pos"), state.get("has_gauss"))


def _user_loc(frame):
    """Loc of frame when it runs the user's code, else None."""
    if frame is None or not _is_user_code(frame.f_code.co_filename):
        return None
    import linecache
    path, line = frame.f_code.co_filename, frame.f_lineno
    return Loc(path, line, linecache.getline(path, line).strip())


# -- step 3: the guards -------------------------------------------------------------------------
def _code_words(code, out):
    """The attribute and global names code (and the functions nested in it) uses, and its
    short string constants (dict keys)."""
    out.update(code.co_names)
    for c in code.co_consts:
        if type(c) is str and len(c) < 64:
            out.add(c)
        elif isinstance(c, types.CodeType):
            _code_words(c, out)
    return out


_CLASS_WORDS: dict = {}


def _class_words(klass):
    """The words of every function stepjit or a library defines in klass and its bases (not
    object's): the user's methods count through the helpers found (helpers.py), which leave
    out the step's callers and the constructors of objects that exist already."""
    words = _CLASS_WORDS.get(klass)
    if words is None:
        words = set()
        for k in klass.__mro__[:-1]:
            for v in list(vars(k).values()):
                v = getattr(v, "__func__", v)
                if isinstance(v, property):
                    v = v.fget
                code = getattr(v, "__code__", None)
                if isinstance(code, types.CodeType) and not is_user_file(code.co_filename):
                    _code_words(code, words)
        words = _CLASS_WORDS[klass] = frozenset(words)
    return words


def _used_names(fn, snap) -> set:
    """The names the step may read values through, found without running it: the words of its
    own code, of the functions its globals name, of the helpers found (helpers.py: the user's
    methods of every class whose objects the search met, less constructors and the step's
    callers), and of stepjit's methods of those classes (a Module's forward reads
    self.training, an optimizer's step group['momentum'])."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    names = set()
    if code is not None:
        _code_words(code, names)
        g = getattr(fn, "__globals__", {})
        for name in list(names):
            helper = getattr(g.get(name), "__code__", None)
            if isinstance(helper, types.CodeType):
                _code_words(helper, names)
    for klass in snap.classes:
        names |= _class_words(klass)
    for helper in snap.helpers[1:]:
        _code_words(helper.__code__, names)
    return names


def path_guards(snap, containers, segment, loc, have=()) -> list:
    """BindingGuards (identity, in `segment`: the trace's last, as value_guards') on every link from a root to each of `containers`
    (the dicts, lists and attribute dicts whose entries the trace guards, reads per call or
    writes after every call): a loop that makes a new meter or log per epoch (`meter =
    AverageMeter()`, `metric = Accumulator(3)`, `losses = []` in the caller's closure) must
    retrace, or a replay would read and write the old object's entries. have: (id(container),
    key) of binding guards the trace has already."""
    done = set(have)
    out = []
    for c in containers:
        for lc, lk, obj, label in snap.paths.get(id(c), ()):
            if lc is None or isinstance(lc, tuple):   # (`self` of a compiled method; immutable)
                continue
            where = (id(lc), lk if type(lk) in (str, int) or lk is None else id(lk))
            if where in done:
                continue
            done.add(where)
            out.append(BindingGuard(lc, lk, obj, label, segment, loc))
    return out


def _set_then_read(read_as, c, k, before, now) -> bool:
    """The step changed container[k] and then read the new number as a per-call input."""
    seen = read_as.get((id(c), k), _MISSING) if isinstance(k, str) else _MISSING
    return seen is not _MISSING and type(now) in (int, float) and not same_number(before, now) \
        and float(seen) == float(now)


def value_guards(fn, snap, segment, written=frozenset(), read_as=None) -> list:
    """ValueGuards and LengthGuards for what the trace may have read (module docstring), all
    checked in `segment`, the trace's last: which values are guarded depends on the path the
    step took (a list appended to on one branch only), so they belong to the path's end, where
    traces that share a prefix keep them apart; nothing is written back before it passes.
    read_as: (id(container), key) -> the number a per-call input (hyperparams.PyInput) held when
    the trace read it."""
    read_as = read_as or {}
    if not snap.scalars and not snap.lengths and not snap.arrays:
        return []
    names = _used_names(fn, snap)
    fn_ = getattr(fn, "__func__", fn)
    code = getattr(fn_, "__code__", None)
    loc = Loc(code.co_filename, code.co_firstlineno, f"def {code.co_name}") if code else None
    guards = []
    grown = {id(c) for c, n, _, _ in snap.lengths.values() if len(c) != n}  # the step appended
    # (a list appended to on another path: its items are a log, not config; of a dict, only
    # the entries some trace added: the others may be config)
    grown.update(k for k, (c, _) in _APPENDED.items() if type(c) is list)
    for c, k, v, label, name in snap.scalars.values():
        if (name is None or name in names) and id(c) not in grown and _added_key(c, k):
            _set_added_key(snap, c, k, v, label)
        elif (name is None or name in names) and id(c) not in grown:
            g = ValueGuard(c, k, v, label, segment, loc)
            now = _current(c, k)
            if g.failed() is None or isinstance(now, Tensor):
                # (a name the step bound to a tensor where it held a number or None, `out =
                # None` before the loop: the guard fails once, and the next trace reads the
                # tensor through the name (sources.py), rather than every call tracing)
                guards.append(g)
            elif type(v) in _CONSTANTS and type(now) in _CONSTANTS:
                # (model.train() after eval(); d2l's `self.board.xlabel = 'epoch'`, None the
                # first time: a constant the same guarded Python sets again)
                guards.append(g)
                snap.writes.append(PyWrite(c, k, now, label))
            elif (id(c), _hashable(k)) in written:   # a number the graph computes (results.py)
                guards.append(g)
            elif _set_then_read(read_as, c, k, v, now):
                # `group['lr'] = lr` before `opt.step()`: the program reads the number per call
                # when the call begins, so it must begin with the number the step sets. It is
                # left there for this call (not put back) and written back after each one;
                # the trace holds for calls that begin with it (a constant set each call
                # replays; a schedule from a counter is computed by the graph, symbolic.py)
                guards.append(ValueGuard(c, k, now, f"{label} (set by the step before its "
                                         "update read it)", segment, loc))
                snap.set_first.add((id(c), k))
                snap.writes.append(PyWrite(c, k, now, label))
            elif liftable(c, k, v) and liftable(c, k, now):
                # a number set from the values guarded (`n += 1` with n guarded, `total = 0.0`):
                # replayed, as a bool; once it has changed between calls the next trace reads it
                # per call (symbolic.py) and the graph computes what the step sets
                guards.append(g)
                snap.writes.append(PyWrite(c, k, now, label))
                _put_back(c, k, v)   # (the call's program may read it: its write-back sets it)
            elif now is not _MISSING:
                at = line_of_change(name, snap.helpers) if type(name) is str else None
                snap.changed.append(ChangedValue(f"{label} ({v!r} -> {now!r})", at or loc))
    for c, n, label, name in snap.lengths.values():
        if id(c) not in grown and (name is None or name in names):
            guards.append(LengthGuard(c, None, n, label, segment, loc))
    for c, k, v, label, name in snap.arrays.values():
        g = ArrayGuard(c, k, v, label, segment, loc)
        if (name is None or name in names) and g.failed() is None:
            guards.append(g)    # (an array the step wrote is its output: not guarded)
    LAST_FAILED[0] = None
    return guards
