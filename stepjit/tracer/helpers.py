"""The Python functions a step may call, found without running it: their namespaces are
state the step can read and change.

A step reaches Python state through its own globals and closure cells (values.roots), and
through the functions it calls, each with a namespace of its own: a helper `record(loss)` in
another module that does `LOG.append("step")` or `global N; N += 1` changes its module's
globals, which the step's names never reach. A trace that did not look there would replay
the step without the append or the increment, silently. So the snapshot taken before a trace
(values.snapshot) also enters, as roots, the globals and closure cells each helper names.

The helpers are found from the words of code (co_names), as the guards' names are:
  - functions named by a global or closure cell of a function already found (`record(x)`,
    `helpers.record(x)`: a module's attribute named by the code, one or two modules deep),
    and the `__func__` of bound methods, the `func` of a functools.partial;
  - the methods of every user class whose objects the snapshot's search met (a Module's
    forward, a logger's `log`) or that a found function names (`Logger()` made in the step);
  - functions the search met in containers and attributes (a list of hooks, `self.log_fn`).
Two kinds of function are left out, because the step does not call them:
  - the user functions running when the step is called (its callers, up the stack: the `fit`
    method or `train()` function whose loop calls the step), unless the step's own code names
    them; a caller's words are the loop's (`self.history.append(loss.item())` after the
    call), and guarding what they name would retrace a step on every call for a log it never
    reads;
  - the constructors (`__init__`, `__new__`, `__post_init__`) of a class the search met only
    as the class of an object that already exists; they run when a found function names the
    class (`Logger()` made in the step). A constructor's words name every attribute the
    object has.
Only user code is entered (not stepjit, the standard library or installed packages: their
module state is theirs, not the step's). A superset of what runs: a helper that never runs
adds guards on values it would have read, so a change to those retraces needlessly, never
wrongly. Not found: functions reached through computed names (`getattr(m, name)`), through
objects made inside the step of classes no code names, or through C code (a callback NumPy
calls).
"""
from __future__ import annotations

import dis
import functools
import os
import sys
import sysconfig
import types

from ..errors import _PKG_DIR
from ..ir.graph import Loc

_MAX_HELPERS = 256      # functions entered per trace (a bound, not a budget usually met)

_NOT_USER = tuple(sorted({os.path.abspath(sysconfig.get_paths()[k]) + os.sep
                          for k in ("stdlib", "platstdlib", "purelib", "platlib")}, key=len,
                         reverse=True)) + (_PKG_DIR + os.sep,)
_USER_FILE: dict = {}


def is_user_file(path) -> bool:
    """Code the user wrote (a script, a module of theirs), not stepjit's, the standard
    library's or an installed package's. (The stdlib and site-packages can nest: the longest
    prefix is tried first, and a user file under none of them is the user's.)"""
    known = _USER_FILE.get(path)
    if known is None:
        full = os.path.abspath(path)
        known = _USER_FILE[path] = not (path.startswith("<frozen") or full.startswith(_NOT_USER))
    return known


_NAMES: dict = {}


def def_loc(fn):
    """The line defining fn (a bound method: its function), for messages about the step."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return Loc("<step>", 0, "")
    return Loc(code.co_filename, code.co_firstlineno, f"def {code.co_name}")


def code_names(code) -> frozenset:
    """The global and attribute names code and the functions nested in it use (cached: code
    objects are immutable)."""
    out = _NAMES.get(code)
    if out is None:
        names = set(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names |= code_names(c)
        out = _NAMES[code] = frozenset(names)
        if len(_NAMES) > 20000:
            _NAMES.clear()
    return out


_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME",
                         "STORE_NAME", "DELETE_NAME"})
_GLOBALS: dict = {}


def global_names(code) -> frozenset:
    """The global names code and the functions nested in it read or bind: the subset of
    code_names the bytecode uses as globals. `opt.step()` puts "step" in co_names as an
    attribute; a global named `step` is not the step's to guard (cached, as code_names)."""
    out = _GLOBALS.get(code)
    if out is None:
        names = {i.argval for i in dis.get_instructions(code) if i.opname in _GLOBAL_OPS}
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names |= global_names(c)
        out = _GLOBALS[code] = frozenset(names)
        if len(_GLOBALS) > 20000:
            _GLOBALS.clear()
    return out


def as_function(obj):
    """The Python function obj calls, if it is one written by the user; else None."""
    for _ in range(3):
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            return obj if is_user_file(code.co_filename) else None
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        elif isinstance(obj, functools.partial):
            obj = obj.func
        else:
            return None
    return None


_CLASS_FUNCTIONS: dict = {}


def class_functions(klass) -> tuple:
    """The user-written functions defined in klass and its bases (methods, properties,
    static and class methods); none for a class of stepjit, a library or builtins."""
    out = _CLASS_FUNCTIONS.get(klass)
    if out is None:
        found = []
        for k in klass.__mro__[:-1]:
            for v in list(vars(k).values()):
                if isinstance(v, property):
                    v = v.fget
                elif isinstance(v, (staticmethod, classmethod)):
                    v = v.__func__
                f = as_function(v)
                if f is not None:
                    found.append(f)
        if len(_CLASS_FUNCTIONS) > 4096:
            _CLASS_FUNCTIONS.clear()
        out = _CLASS_FUNCTIONS[klass] = tuple(found)
    return out


def named_by(fn) -> list:
    """The objects fn's code may reach by name: its globals it names (and, for a Python module
    among them, the module's attributes the code names, two modules deep: `utils.log.record`)
    and its closure cells' contents."""
    code = fn.__code__
    names = code_names(code)
    g = fn.__globals__
    out = []
    for name in global_names(code):
        if name in g:
            out.append(g[name])
    i = 0
    while i < len(out):     # (a user module named: its attributes the code names, in turn)
        obj = out[i]
        i += 1
        if isinstance(obj, types.ModuleType) and _is_user_module(obj) and len(out) < 1024:
            d = obj.__dict__
            out.extend(d[n] for n in names if n in d)
    for cell in fn.__closure__ or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:
            pass
    return out


def _is_user_module(m) -> bool:
    f = getattr(m, "__file__", None)
    return bool(f) and is_user_file(f)


_CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__"})


def running_callers(step) -> frozenset:
    """The code of the user functions on the stack now (the step's callers, when called as the
    step is about to be traced), less those the step's own code names (a recursive helper)."""
    code = getattr(step, "__code__", None)
    named = code_names(code) if code is not None else frozenset()
    out = set()
    frame = sys._getframe(1)
    while frame is not None:
        c = frame.f_code
        if c is not code and c.co_name not in named and is_user_file(c.co_filename):
            out.add(c)
        frame = frame.f_back
    return frozenset(out)


class Helpers:
    """The helpers found so far for one trace: functions[0] is the step, then the functions
    found, in order. `callers`: code of functions never added (running_callers)."""

    def __init__(self, step, callers=frozenset()):
        self.functions = [step]
        self._seen = {id(step)}
        self._classes = {}      # class -> whether its constructors were added
        self._callers = callers
        self._named = 0         # functions[:_named] have had what they name added

    def add(self, obj, constructed=True) -> None:
        """Add obj if it is a user function; if a class, its methods (its constructors only
        when `constructed`: the code names the class, rather than an object of it was met)."""
        f = as_function(obj)
        if f is not None:
            if (id(f) not in self._seen and f.__code__ not in self._callers
                    and len(self.functions) < _MAX_HELPERS):
                self._seen.add(id(f))
                self.functions.append(f)
        elif isinstance(obj, type) and self._classes.get(obj, -1) < constructed:
            self._classes[obj] = constructed
            for f in class_functions(obj):
                if constructed or f.__name__ not in _CONSTRUCTORS:
                    self.add(f)

    def expand(self) -> None:
        """Add what the functions not yet looked at name, and what those name, in turn."""
        while self._named < len(self.functions):
            f = self.functions[self._named]
            self._named += 1
            for obj in named_by(f):
                self.add(obj)


def roots_of(fn, step_globals):
    """(container, key, object, label) for the globals fn names, the attributes it names of
    the user modules among them (`helpers.LOG`), and its closure cells."""
    code = fn.__code__
    names = code_names(code)
    g = fn.__globals__
    where = "" if g is step_globals else f" of {g.get('__name__', '?')}"
    out = []
    for name in sorted(global_names(code) & g.keys()):
        obj = g[name]
        out.append((g, name, obj, f"global {name}{where}"))
        if isinstance(obj, types.ModuleType) and _is_user_module(obj):
            d = obj.__dict__
            out += [(d, n, d[n], f"{obj.__name__}.{n}") for n in sorted(names & d.keys())]
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            out.append((cell, None, cell.cell_contents,
                        f"closure variable {name} of {fn.__qualname__}"))
        except ValueError:
            continue
    return out + default_roots(fn)


# -- the line that changed it -------------------------------------------------------------
_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update",
                       "setdefault", "popitem", "add", "discard", "appendleft", "extendleft",
                       "popleft", "sort", "reverse", "__setitem__", "__delitem__", "__iadd__",
                       "difference_update", "intersection_update", "symmetric_difference_update"})
_STORES = frozenset({"STORE_GLOBAL", "STORE_ATTR", "STORE_NAME", "STORE_DEREF", "DELETE_ATTR",
                     "DELETE_GLOBAL"})


def line_of_change(name, functions, container=False):
    """Loc of the first line of the given functions' code that may change `name`: a store to
    it (`global N; N += 1`, `self.count = ...`), or, for a container, a line that loads it
    and calls a mutating method (`LOG.append(...)`) or stores an item; None if none."""
    import dis
    import linecache
    for f in functions:
        for code in _codes(f.__code__):
            lines, line = {}, code.co_firstlineno
            for ins in dis.get_instructions(code):
                line = _line(ins, line)
                if ins.opname in _STORES and ins.argval == name and not container:
                    return _loc(code, line, Loc, linecache)
                lines.setdefault(line, set()).add((ins.opname, ins.argval))
            if container:
                for line, ops in sorted(lines.items()):
                    loads = any(a == name and not op.startswith("STORE") for op, a in ops)
                    changes = any(a in _MUTATORS for _, a in ops) or \
                        any(op in ("STORE_SUBSCR", "DELETE_SUBSCR") for op, _ in ops)
                    if loads and changes:
                        return _loc(code, line, Loc, linecache)
    return None


def _line(ins, line):
    """The source line of ins (Python 3.13's line_number; before, starts_line on the first
    instruction of each line)."""
    n = getattr(ins, "line_number", None)
    if n is not None:
        return n
    n = ins.starts_line
    return n if type(n) is int else line


def _codes(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def _loc(code, line, Loc, linecache):
    return Loc(code.co_filename, line, linecache.getline(code.co_filename, line).strip())


def default_roots(fn):
    """(container, key, object, label) for fn's default argument values: a mutable default
    (`def step(x, seen={})`) is state the step keeps between calls, as a closure cell is."""
    code = fn.__code__
    defaults = getattr(fn, "__defaults__", None) or ()
    names = code.co_varnames[code.co_argcount - len(defaults):code.co_argcount]
    out = [(defaults, k, obj, f"default argument {name} of {fn.__qualname__}")
           for k, (name, obj) in enumerate(zip(names, defaults))]
    kw = getattr(fn, "__kwdefaults__", None) or {}
    out += [(kw, name, kw[name], f"default argument {name} of {fn.__qualname__}")
            for name in sorted(kw)]
    return out
