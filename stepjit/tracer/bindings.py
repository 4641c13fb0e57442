"""Guards on the names a step reaches its outside tensors through.

A tensor the step reads without receiving it as an argument (a global `w`, a
closure's weights) is lifted by identity: the trace holds that tensor object.
If the user then rebinds the name (`w = torch.randn(...)` between calls), the
step's Python would read the new tensor while the trace would replay the old
one: a silently wrong result. So a trace also guards, for every lifted tensor
bound to a global of the step's module or to a cell of its closure, that the
name is still bound to that very object; rebinding it retraces.

The same holds one level further out: a tensor reached through an attribute or
a container (`model.fc.weight`, `opt.param_groups[0]['params'][0]`, `params[0]`)
is found at trace time by a bounded search from those names (and from `self` of
a compiled method or module), and every link of every path found to it is
guarded by identity, so `model.fc = nn.Linear(...)`, `model.w = Parameter(...)`
or `params[0] = t` between calls retraces too. torch.compile guards the path
the step's bytecode actually took; we guard all the paths the search finds (a
superset: rebinding a path the step does not use retraces needlessly, never
wrongly). Not covered: paths deeper than _MAX_DEPTH links, or through objects
the search does not enter (see _children), or a helper function's own globals.
"""
from __future__ import annotations

import types
from collections import deque
from itertools import islice

from .helpers import def_loc, global_names
from .hyperparams import _MISSING, PyGuard
from ..tensor import Tensor


# The BindingGuard that failed last and what its place holds now (the runtime reads it when a
# call leaves the tree: a loop's new meter or log per epoch, runtime/compiled.py _renewed).
LAST_REBOUND = [None]


class BindingGuard(PyGuard):
    """container[key] (a dict: a module's globals, an object's __dict__, a module's
    _parameters; or a list) or a closure cell (key None) still holds `value` itself:
    identity, where a PyGuard compares values."""
    __slots__ = ()

    def current(self):
        if self.key is None:                  # a closure cell
            try:
                return self.container.cell_contents
            except ValueError:
                return _MISSING
        if type(self.container) is list:
            return self.container[self.key] if self.key < len(self.container) else _MISSING
        return self.container.get(self.key, _MISSING)

    def failed(self):
        now = self.current()
        if now is self.value:
            return None
        LAST_REBOUND[0] = (self, now)
        return f"{self.label} was rebound to another object (the trace read the old one)"

    def same_as(self, other) -> bool:
        return (type(other) is BindingGuard and other.container is self.container
                and _key(other.key) == _key(self.key) and other.value is self.value)

    def describe(self) -> str:
        what = "the tensor the trace lifted" if hasattr(self.value, "_data") else \
            "the object the trace reached lifted tensors through"
        return f"{self.label} is {what}  (step defined at {self.loc})"


def binding_guards(fn, slots, helper_roots=()) -> list:
    """BindingGuards for each lifted ("obj") slot's tensor: the global or closure name of fn
    that holds it, and every link of every path to it from such a name (or from `self` of a
    bound method, or from a name of a helper fn calls: helper_roots, values.snapshot's)
    that the search finds, each in the first segment that needs it."""
    owner = getattr(fn, "__self__", None)     # a compiled method or module: its object
    fn = getattr(fn, "__func__", fn)          # a bound method: the function's own namespaces
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    lifted = {id(s.slot[1]): s for s in slots if s.slot[0] == "obj"}
    if not lifted:
        return []
    loc = def_loc(fn)
    links = {}    # (id(container), key) -> [container, key, value, label, segment]
    names = global_names(code)
    for name, obj in list(getattr(fn, "__globals__", {}).items()):
        if name in names or id(obj) in lifted:
            _search(fn.__globals__, name, obj, f"global {name}", lifted, links)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            obj = cell.cell_contents
        except ValueError:
            continue
        _search(cell, None, obj, f"closure variable {name}", lifted, links)
    if owner is not None:
        _search(None, None, owner, "self", lifted, links)
    for container, key, obj, label in helper_roots:
        _search(container, key, obj, label, lifted, links)
    return [BindingGuard(c, k, v, label, seg, loc) for c, k, v, label, seg in links.values()
            if c is not None]


_MAX_DEPTH = 6        # links from a name to a tensor: model._modules['0']._parameters['weight']
_MAX_OBJECTS = 4000   # objects one name's search may enter
_MAX_ITEMS = 1000     # items of one container it looks at (not a whole dataset held in a list)


def _search(container, key, root, label, lifted, links):
    """Breadth-first from root (held at container[key]) through attributes and items; for each
    lifted tensor met, add every link of the path that reached it to `links`."""
    queue = deque([(root, ((container, key, root, label),))])
    seen = set()
    while queue and len(seen) < _MAX_OBJECTS:
        obj, path = queue.popleft()
        if isinstance(obj, Tensor):
            spec = lifted.get(id(obj))
            if spec is not None:
                _add_path(path, spec.segment, links)
            continue
        if id(obj) in seen or len(path) > _MAX_DEPTH:
            continue
        seen.add(id(obj))
        for c, k, child, text in _children(obj):
            queue.append((child, path + ((c, k, child, text),)))


def _add_path(path, segment, links):
    """path: (container, key, value, label text) links; the first one's text is the name."""
    label = ""
    for c, k, v, text in path:
        label += text
        if isinstance(c, tuple):   # immutable (a namedtuple too): rebinding it rebinds its holder
            continue
        entry = links.get((id(c), _key(k)))
        if entry is None:
            links[(id(c), _key(k))] = [c, k, v, label, segment]
        else:
            entry[4] = min(entry[4], segment)


def _show(k):
    return repr(k) if type(k) in (str, int, float, bool) else f"<{type(k).__name__}>"


def _key(k):
    """A container key to compare: by value for str and int (dict keys, list indices), else by
    identity (a tensor keys an optimizer's state, and == on tensors is elementwise)."""
    return k if type(k) in (str, int) else ("object", id(k))


_OPAQUE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           type, str, bytes, int, float, complex, bool, type(None))


def _children(obj):
    """(container, key, child, label text) for what a step may reach a tensor through: a
    Module's parameters, buffers and submodules, an object's attributes, a dict's values,
    a list's or tuple's items. Not NumPy arrays, functions, classes or Python modules."""
    try:
        return list(islice(_items(obj), _MAX_ITEMS))
    except Exception:  # noqa: BLE001 - an object whose attributes cannot be listed: not entered
        return []


def _items(obj):
    if isinstance(obj, _OPAQUE) or hasattr(obj, "__array_interface__"):
        return
    if isinstance(obj, dict):
        yield from ((obj, k, v, f"[{_show(k)}]") for k, v in list(obj.items()))
        return
    if isinstance(obj, (list, tuple)):
        yield from ((obj, i, v, f"[{i}]") for i, v in enumerate(obj))
        return
    d = searched_dict(obj)
    if d is None:
        return
    for reg in _REGISTRIES:                  # nn.Module's parameters, buffers, submodules
        r = d.get(reg)
        if isinstance(r, dict):
            yield from ((r, k, v, f".{k}") for k, v in list(r.items()))
    yield from ((d, k, v, f".{k}") for k, v in list(d.items())
                if k not in _REGISTRIES and not k.startswith("__"))


_REGISTRIES = ("_parameters", "_buffers", "_modules")


def searched_dict(obj):
    """The attributes of obj the searches enter: its __dict__, or only the names its class
    lists in `_trace_search`. A compiled function (runtime/compiled.py) lists none: its
    counters and caches change on every call, and guarding them (found through a global
    `step` when the step calls `opt.step()`) would retrace every call; a compiled module lists
    the module it wraps."""
    d = getattr(obj, "__dict__", None)
    if type(d) is not dict:
        return None
    only = getattr(type(obj), "_trace_search", None)
    return d if only is None else {k: d[k] for k in only if k in d}
