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
     dict entries and list/tuple items, bounded like bindings.py (depth, objects,
     items), with the value it holds *then* (a step that changes such a value while
     traced, `self.calls += 1`, must be guarded on the value it read, not the one it
     left);
  2. while the step is traced, `Watch` (sys.setprofile) collects the code objects
     that run: the user's functions and stepjit's nn and optim code;
  3. after the trace, a scalar is guarded when the last link of its path is a name
     one of those code objects uses (an attribute or global in co_names, a dict key
     in co_consts) or an item of a list or tuple (indexed by a computed position).
     Every list and Module registry on such a path is guarded on its length:
     `opt.add_param_group(...)`, `m.extra = nn.Parameter(...)` between calls retrace.

A value or a list the step itself changed while traced (a call counter, a list it
appends to) is not guarded: the trace wrote it rather than read it, and a step that
reads what it wrote on an earlier call is found by re-verification (runtime/compiled.py),
which then traces it on every call.

A value that is not a scalar but holds scalars (a tuple of sizes) is reached item
by item. Not guarded: objects the search does not enter (bindings._OPAQUE, NumPy
arrays), values past its bounds, the globals of helper functions in other modules
that the step does not reach through its own names, and values a helper computes
from C state the search cannot see.

Nondeterministic Python. The same profile hook watches for calls whose result
differs from call to call with the same inputs: Python's `random`, NumPy's global
and Generator random functions, the clocks of `time`, and `open`. A trace that ran
one describes that call only; the runtime then retraces the step on every call
(compiled.py), reusing programs by structural hash, with one warning naming the
call and the user's line that made it.
"""
from __future__ import annotations

import builtins
import io
import os
import random as _random
import sys
import sysconfig
import time as _time
import types
from collections import deque

from ..errors import _PKG_DIR
from ..ir.graph import Loc
from .bindings import _MAX_DEPTH, _MAX_ITEMS, _MAX_OBJECTS, _OPAQUE, _REGISTRIES
from .hyper import _MISSING, PyGuard

_SCALARS = (bool, int, float, str, type(None))
_MAX_SEQUENCE = 64      # a longer list or tuple is data (a dataset), not entered
_LIBRARY = (os.path.join(_PKG_DIR, "nn"), os.path.join(_PKG_DIR, "optim"))


# -- the guards --------------------------------------------------------------------------------
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
        now = "gone" if x is _MISSING else repr(x)
        return f"{self.label} changed from {self.value!r} to {now} (the trace read {self.value!r})"

    def same_as(self, other) -> bool:
        return (type(other) is ValueGuard and other.container is self.container
                and other.key == self.key and type(other.value) is type(self.value)
                and other.value == self.value)

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
        self.lengths = {}     # id(container) -> (container, length, label)


def roots(fn):
    """(container, key, object, label) for the step's global names, closure cells and self."""
    owner = getattr(fn, "__self__", None)
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    out = []
    names = _code_names(code)
    g = getattr(fn, "__globals__", {})
    for name in sorted(names & g.keys()):
        out.append((g, name, g[name], f"global {name}"))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            out.append((cell, None, cell.cell_contents, f"closure variable {name}"))
        except ValueError:
            continue
    if owner is not None:
        out.append((None, None, owner, "self"))
    return out


def snapshot(fn) -> Snapshot:
    snap = Snapshot()
    for container, key, obj, label in roots(fn):
        _search(snap, container, key, obj, label)
    return snap


def _search(snap, container, key, root, label):
    from ..tensor import Tensor
    queue = deque([(container, key, root, label, key, 0)])
    seen = set()
    while queue and len(seen) < _MAX_OBJECTS:
        c, k, obj, text, name, depth = queue.popleft()
        if isinstance(obj, _SCALARS):
            if c is not None and type(c) is not tuple:
                snap.scalars.setdefault((id(c), _hashable(k)), (c, k, obj, text, name))
            continue
        if isinstance(obj, Tensor) or id(obj) in seen or depth >= _MAX_DEPTH:
            continue
        seen.add(id(obj))
        for child_c, child_k, child, link, child_name in _children(snap, obj, text):
            queue.append((child_c, child_k, child, text + link, child_name, depth + 1))


def _children(snap, obj, text):
    """(container, key, child, link text, name the code must use) for each way into obj."""
    if isinstance(obj, _OPAQUE) or hasattr(obj, "__array_interface__"):
        return []
    if isinstance(obj, dict):
        items = list(obj.items())[:_MAX_ITEMS]
        return [(obj, k, v, f"[{k!r}]", k if type(k) is str else None)
                for k, v in items if type(k) in (str, int)]
    if isinstance(obj, (list, tuple)):
        if len(obj) > _MAX_SEQUENCE:
            return []       # data, not configuration: a dataset held in a list
        if type(obj) is list:
            snap.lengths.setdefault(id(obj), (obj, len(obj), text))
        return [(obj, i, v, f"[{i}]", None) for i, v in enumerate(obj)]
    d = getattr(obj, "__dict__", None)
    if type(d) is not dict:
        return []
    out = []
    for reg in _REGISTRIES:                 # nn.Module: parameters, buffers, submodules
        r = d.get(reg)
        if isinstance(r, dict):
            snap.lengths.setdefault(id(r), (r, len(r), f"{text}.{reg}"))
            out += [(r, k, v, f".{k}", None) for k, v in list(r.items())[:_MAX_ITEMS]]
    out += [(d, k, v, f".{k}", k) for k, v in list(d.items())[:_MAX_ITEMS]
            if k not in _REGISTRIES and not k.startswith("__")]
    return out


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


_CLOCKS = {getattr(_time, n) for n in ("time", "time_ns", "perf_counter", "perf_counter_ns",
                                       "monotonic", "monotonic_ns", "process_time",
                                       "process_time_ns") if hasattr(_time, n)}
_FILES = {builtins.open, io.open, os.urandom}
_RANDOM_FILE = os.path.abspath(_random.__file__)


def _rng_types():
    try:
        import numpy as np
        return (_random.Random, np.random.RandomState, np.random.Generator)
    except ImportError:     # pragma: no cover - numpy is a dependency
        return (_random.Random,)


_RNG_TYPES = _rng_types()


def _in_stepjit(path):
    return os.path.abspath(path).startswith(_PKG_DIR)


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
    """sys.setprofile while the step is traced: the code objects that ran (user code and
    stepjit's nn and optim), and the first nondeterministic call the user's code made."""

    def __init__(self, step_loc=None):
        self.step_loc = step_loc
        self.codes = set()
        self.nondeterministic = None
        self._prev = None

    def __enter__(self):
        self._numpy = _numpy_state()
        self._prev = sys.getprofile()
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._prev)
        if self.nondeterministic is None and _numpy_state() != self._numpy:
            # NumPy's random functions are Cython functions, which the profiler does not see:
            # the global generator's state moved, so the step drew from it; the line is unknown
            self.nondeterministic = Nondeterministic(
                "numpy.random (its global state moved while the step ran)", self.step_loc)
        return False

    def _hook(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code not in self.codes:
                self.codes.add(code)
            if self.nondeterministic is None and code.co_filename == _RANDOM_FILE:
                self._found(f"random.{code.co_name}()", frame.f_back)
        elif event == "c_call" and self.nondeterministic is None:
            what = _nondeterministic_builtin(arg)
            if what is not None:
                self._found(what, frame)

    def _found(self, what, frame):
        """A call made by the user's code (not by stepjit, or by the standard library for its
        own purposes: linecache opening a source file, random's methods calling each other)."""
        if frame is None or not _is_user_code(frame.f_code.co_filename):
            return
        import linecache
        path, line = frame.f_code.co_filename, frame.f_lineno
        self.nondeterministic = Nondeterministic(
            what, Loc(path, line, linecache.getline(path, line).strip()))


def _numpy_state():
    import numpy as np
    state = np.random.mtrand._rand.get_state(legacy=False)
    inner = state["state"]
    return (state["bit_generator"], inner["key"].tobytes() if hasattr(inner.get("key"), "tobytes")
            else repr(inner), inner.get("pos"), state.get("has_gauss"))


def _nondeterministic_builtin(fn):
    if fn in _CLOCKS:
        return f"time.{fn.__name__}()"
    if fn in _FILES:
        return f"{fn.__name__}()" if fn is not builtins.open else "open()"
    owner = getattr(fn, "__self__", None)
    if owner is not None and isinstance(owner, _RNG_TYPES):
        kind = "numpy.random" if type(owner).__module__.startswith("numpy") else "random"
        return f"{kind}.{fn.__name__}()"
    return None


# -- step 3: the guards -------------------------------------------------------------------------
def _code_names(code) -> set:
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _code_names(c)
    return out


def _used_names(codes, fn) -> set:
    """Attribute, global and dict-key names the code that ran may have read."""
    names = set()
    step = getattr(getattr(fn, "__func__", fn), "__code__", None)
    for code in codes | ({step} if step is not None else set()):
        path = code.co_filename
        if _in_stepjit(path) and not path.startswith(_LIBRARY):
            continue        # stepjit's own machinery reads tensors' fields, not the user's values
        names.update(code.co_names)
        names.update(c for c in code.co_consts if type(c) is str and len(c) < 64)
    return names


def value_guards(fn, snap, watch, segment) -> list:
    """ValueGuards and LengthGuards for what the trace may have read (module docstring), all
    checked in `segment`, the trace's last: which values are guarded depends on the path the
    step took (a list appended to on one branch only), so they belong to the path's end, where
    traces that share a prefix keep them apart; nothing is written back before it passes."""
    if not snap.scalars and not snap.lengths:
        return []
    names = _used_names(watch.codes, fn)
    fn_ = getattr(fn, "__func__", fn)
    code = getattr(fn_, "__code__", None)
    loc = Loc(code.co_filename, code.co_firstlineno, f"def {code.co_name}") if code else None
    guards = []
    grown = {id(c) for c, n, _ in snap.lengths.values() if len(c) != n}   # the step appended
    for c, k, v, label, name in snap.scalars.values():
        if (name is None or name in names) and id(c) not in grown:
            g = ValueGuard(c, k, v, label, segment, loc)
            if g.failed() is None:
                guards.append(g)
    for c, n, label in snap.lengths.values():
        if len(c) == n:
            guards.append(LengthGuard(c, None, n, label, segment, loc))
    return guards
