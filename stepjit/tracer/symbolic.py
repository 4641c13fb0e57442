"""Python ints that change on every call, traced by what the step asks of them.

A script's loop variable read by its step (`for t in range(300): step()` with
`if t % 100 == 99: print(t, loss)` inside) changes on every call. Guarding its
value (values.py) would trace the step on every call. Once the runtime has seen
such a value change on two calls in a row, the next traces see a `SymbolicInt` in
its place (the global, closure cell or attribute is swapped for the trace and
restored after it), as TorchDynamo makes an int dynamic after it changed:

  - arithmetic with Python ints (`t % 100`, `t + 1`) gives another SymbolicInt
    that remembers how it was computed from the place's value;
  - a comparison or truth test (`== 99`, `if t % 2:`) returns a bool and records
    a `ConditionGuard`: the same expression, computed from the value a later call
    finds there, must give the same outcome. `if t % 100 == 99:` costs one guard
    that holds on 99 calls in 100;
  - its use as a tensor op's operand (`loss * scale`) reads the place as a 0-dim int64
    graph input on every call, as a SymbolicFloat's does (below);
  - any other use (printing it, `int(t)`, indexing) hands out the exact int and records
    that the trace holds for that value only (an exact ConditionGuard), so printing on step
    99 makes a trace for step 99.

A float that changes between calls (a global `lr` decayed by the script, `cfg.scale`,
`group['lr']` in a hand-written optimizer) is made symbolic at its first change, when it
lives in a dict (a global, an attribute, a dict entry) or a closure cell: a `SymbolicFloat`
stands in its place, and

  - its use as a tensor op's operand (`lr * w.grad`, `w.sub_(lr * g)`) reads the place as a
    0-dim float64 graph input on every call (a hyperparameters.PyInput, as `param_groups`'
    lr), with the arithmetic done on it first (`lr * 0.5`, `1 - p`, `-lr`: add, sub, mul,
    truediv with Python numbers) recorded as float64 nodes, which round as Python's doubles
    do; so a new value needs no retrace;
  - a comparison or truth test records a ConditionGuard, as for ints;
  - float arithmetic on a SymbolicInt (`lr * (it + 1)`, `it / n`: the int converted exactly,
    "float" in the expression) gives a SymbolicFloat of the int's place, and so do `math.cos`,
    `sin`, `exp`, `log`, `sqrt`, `tanh` of either while a trace runs (MathFunctions): a
    cosine schedule of a loop counter is computed by the graph, not guarded per value. Two
    expressions of one place combine (an operand `_Of` another expression of it);
  - any other use (`float(lr)`, `math.floor(lr)`, printing, an op attribute such as
    `clamp(min=lr)`) hands out the exact value and guards it. Not a float subclass on
    purpose: C code reads a float subclass's value without asking it, which would bake the
    value in unguarded; this class makes every such read go through `__float__`. Its
    `__class__` is float, so `isinstance(lr, float)` in Python code holds, as eagerly.

Two numbers read per call from different places combined by + - * / into a float (`lr *
betas[0]`, `self.n_epochs += 1. / self.iters`) are one graph value (`_joint`: the tracer's
scalar_arith makes a PerCallNumber, decisions.py): a tensor op reads it as it reads a
SymbolicFloat, and a comparison of it is a decision on its value, as for a number from
`.item()`; a place the step leaves it in is written back after every call (results.py).

Bools keep their value guards (they take two values).
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..dispatch import MODE
from ..ir import primitives as P
from ..ir.types import float64
from ..tensor import Tensor
from .decisions import TracedScalar
from .hyperparams import _MISSING, PyGuard
from .values import LAST_FAILED, _current, liftable

_ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow}
_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
            "gt": operator.gt, "ge": operator.ge}
_OPS = dict(_ARITH, truediv=operator.truediv)
# a float's ops the graph computes as Python does
_FLOAT_ARITH = ("add", "sub", "mul", "truediv", "pow")
# Functions of one number the graph computes (float64 nodes) when handed a symbolic number
# while a trace runs (`math.cos(math.pi * it / n)` in a cosine schedule): "float" is the int to
# float conversion where an int's arithmetic meets a float. Each is correctly rounded or within
# an ulp of the C library's, which is what Python's math calls.
_UNARY = {"float": float, "cos": math.cos, "sin": math.sin, "exp": math.exp, "log": math.log,
          "sqrt": math.sqrt, "tanh": math.tanh}
_SHOW = {"truediv": "/", "add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%", "pow": "**",
         "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class _Of(tuple):
    """An operand that is another expression of the same place's value (`f(it) + g(it)`,
    `min(a(it), b(it))`): its ((op, other, reverse), ...) applied to the place's value."""
    __slots__ = ()


def _apply(expr, x):
    x0 = x
    for op, other, reverse in expr:
        if type(other) is _Of:
            other = _apply(other, x0)
        if op in _UNARY:
            x = _UNARY[op](x)
        else:
            x = _OPS[op](other, x) if reverse else _OPS[op](x, other)
    return x


def _text(label, expr):
    out = label
    for op, other, reverse in expr:
        o = _text(label, other) if type(other) is _Of else repr(other)
        if op in _UNARY:
            out = f"{op}({out})"
        else:
            out = f"({o} {_SHOW[op]} {out})" if reverse else f"({out} {_SHOW[op]} {o})"
    return out


def segment_now() -> int:
    """The segment of the trace being recorded (the decisions taken so far), where a guard made
    now belongs. A condition on an int read per call is checked there, before the decisions
    Python took after it: `if i % 10 == 0: log.append(f"{loss.item():.3f}")` must not run the
    float's decision on the calls whose condition says Python never read it."""
    tracer = MODE.tracer
    return 0 if tracer is None else len(tracer.decisions)


class ConditionGuard(PyGuard):
    """op(expr(container[key]), other) still gives `value` (the outcome the trace saw). op None:
    expr(container[key]) itself must still equal `value` (an exact use)."""
    __slots__ = ("expr", "op", "other", "kind")

    def __init__(self, container, key, label, expr, op, other, value, segment, loc, kind=int):
        super().__init__(container, key, value, label, segment, loc)
        self.expr, self.op, self.other, self.kind = expr, op, other, kind

    def _now(self):
        try:
            x = _current(self.container, self.key)
            if type(x) is not self.kind:
                return _MISSING
            y = _apply(self.expr, x)
            other = _apply(self.other, x) if type(self.other) is _Of else self.other
            return y if self.op is None else bool(_COMPARE[self.op](y, other))
        except Exception:  # noqa: BLE001 - what the expression raises now: the guard fails
            return _MISSING

    def failed(self):
        if self._now() == self.value:
            return None
        if self.op is None:
            # an exact use of a number that changes: if it changes on two calls in a row (a
            # counter the step increments and multiplies a tensor by), the runtime traces such
            # a step every call rather than grow a leaf per value (values.LAST_FAILED); an int
            # taking a few values in turn (`xs[i % 2]`) gets a leaf each
            LAST_FAILED[0] = self
        return f"{self.describe()} no longer holds"

    def describe(self):
        what = _text(self.label, self.expr)
        if self.op is None:
            return f"{what} == {self.value!r}"
        other = _text(self.label, self.other) if type(self.other) is _Of else repr(self.other)
        return f"({what} {_SHOW[self.op]} {other}) is {self.value}"

    def same_as(self, other) -> bool:
        return (type(other) is ConditionGuard and other.container is self.container
                and other.key == self.key and other.expr == self.expr and other.op == self.op
                and other.other == self.other and other.value == self.value
                and other.kind is self.kind)


def exact_numbers(x):
    """x with every SymbolicInt in it (in nested tuples: an indexing key) made exact (guarded),
    and every 0-dim integer tensor (a window's traced bound, windows.py) made its int (a
    data-dependent decision)."""
    if type(x) is SymbolicInt:
        return x.exact()
    if isinstance(x, Tensor):
        return operator.index(x)
    if type(x) is tuple or type(x) is list:
        return type(x)(exact_numbers(v) for v in x)
    return x


def _bound_now(spec):
    """A bound of a WindowGuard as it is now: a constant, or (container, key, expr) -> the int
    the expression gives from the place's value; _MISSING when that is no longer an int."""
    if type(spec) is not tuple:
        return spec
    container, key, expr = spec
    x = _current(container, key)
    return _apply(expr, x) if type(x) is int else _MISSING


class WindowGuard(PyGuard):
    """A slice of a dimension of size n whose bounds are ints read per call (windows.py) still
    takes `value` elements (an index, stop INDEX: still lies in the dimension), so the trace's
    window, whose start is read per call, keeps its static length. Each bound is a constant or
    (container, key, expr) of a SymbolicInt."""
    __slots__ = ("start", "stop", "step", "n", "text")
    INDEX = "index"

    def __init__(self, place, start, stop, step, n, value, text):
        super().__init__(place.container, place.key, value, place.label, segment_now(),
                         place.loc)
        self.start, self.stop, self.step, self.n, self.text = start, stop, step, n, text

    def _now(self):
        try:
            a = _bound_now(self.start)
            if self.stop == self.INDEX:
                return a is not _MISSING and -self.n <= a < self.n
            b = _bound_now(self.stop)
            if a is _MISSING or b is _MISSING:
                return _MISSING
            return len(range(*builtins.slice(a, b, self.step).indices(self.n)))
        except Exception:  # noqa: BLE001 - what the bounds raise now: the guard fails
            return _MISSING

    def failed(self):
        return None if self._now() == self.value else f"{self.describe()} no longer holds"

    def describe(self):
        if self.stop == self.INDEX:
            return f"index {self.text} lies in a dimension of size {self.n}"
        return f"slice [{self.text}] of a dimension of size {self.n} takes {self.value} elements"

    def same_as(self, other) -> bool:
        return (type(other) is WindowGuard and other.start == self.start
                and other.stop == self.stop and other.step == self.step and other.n == self.n
                and other.value == self.value)


class _Symbolic:
    """What SymbolicInt and SymbolicFloat share: guards on what the step asks of the value."""
    __slots__ = ("_place", "_value", "_expr")

    def __init__(self, place, value, expr=()):
        self._place = place      # Place
        self._value = value      # the concrete number this trace sees
        self._expr = expr        # ((op, other, reverse), ...) applied to the place's value

    def _guard(self, op, other, outcome):
        p = self._place
        p.guards.append(ConditionGuard(p.container, p.key, p.label, self._expr, op, other,
                                       outcome, segment_now(), p.loc, p.kind))

    def exact(self):
        """The concrete number; the trace now holds for this value only."""
        self._guard(None, None, self._value)
        return self._value

    def _same_place(self, other):
        """other's expression as an operand of this one's (_Of), when both stand for
        expressions of one place's value; else None."""
        if isinstance(other, _Symbolic) and other._place is self._place:
            return _Of(other._expr)
        return None

    def _compare(self, op, other):
        of = self._same_place(other)
        if of is not None:
            outcome = bool(_COMPARE[op](self._value, other._value))
            self._guard(op, of, outcome)
            return outcome
        if isinstance(other, _Symbolic):
            other = other.exact()
        if type(other) not in (int, float):
            return _COMPARE[op](self.exact(), other)
        outcome = bool(_COMPARE[op](self._value, other))
        self._guard(op, other, outcome)
        return outcome

    def __bool__(self):
        outcome = self._value != 0
        self._guard("ne", 0, outcome)
        return outcome

    def __eq__(self, o):
        return self._compare("eq", o)

    def __ne__(self, o):
        return self._compare("ne", o)

    def __lt__(self, o):
        return self._compare("lt", o)

    def __le__(self, o):
        return self._compare("le", o)

    def __gt__(self, o):
        return self._compare("gt", o)

    def __ge__(self, o):
        return self._compare("ge", o)

    def __hash__(self):
        return hash(self.exact())

    def __int__(self):
        return int(self.exact())

    def __float__(self):
        return float(self.exact())

    def __str__(self):
        return str(self.exact())

    def __repr__(self):
        return repr(self.exact())

    def __format__(self, spec):
        return format(self.exact(), spec)

    def __abs__(self):
        return abs(self.exact())

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.exact(), dtype=dtype)

    def __getattr__(self, name):
        if name.startswith("_"):     # the runtime's own probing (hasattr(x, "__array__")...)
            raise AttributeError(name)
        return getattr(self.exact(), name)


class SymbolicInt(_Symbolic):
    """Stands for an int at container[key] during a trace; see the module docstring."""
    __slots__ = ()
    stands_for = int     # the type of number it is (dispatch.aval_of)

    @property
    def __class__(self):
        # as SymbolicFloat's: `isinstance(dim, int)` in Python code (the user's, or a front-end
        # function taking an int or a tuple of ints) takes the path it takes for the value;
        # what it then does with it asks for the value (__index__, a comparison), or reaches
        # an op's attributes, which the tracer makes exact.
        return int

    def _arith(self, op, other, reverse=False):
        if isinstance(other, TracedScalar):
            return NotImplemented   # a number from .item(): it computes with this one (decisions.py)
        if type(other) is SymbolicFloat and other._place is self._place:
            return self.as_float()._arith(op, other, reverse)
        if type(other) is SymbolicInt and other._place is self._place:
            value = _ARITH[op](other._value, self._value) if reverse \
                else _ARITH[op](self._value, other._value)
            if type(value) is not int:
                return self.as_float()._arith(op, other.as_float(), reverse)
            return SymbolicInt(self._place, value, self._expr + ((op, _Of(other._expr), reverse),))
        if isinstance(other, _Symbolic):
            joint = _joint(op, self, other, reverse)
            if joint is not None:
                return joint
            other = other.exact()
        if type(other) is float:   # `lr * (it + 1)`: the int becomes a float, exactly
            return self.as_float()._arith(op, other, reverse)
        if type(other) is not int:
            x = self.exact()
            return _ARITH[op](other, x) if reverse else _ARITH[op](x, other)
        value = _ARITH[op](other, self._value) if reverse else _ARITH[op](self._value, other)
        if type(value) is not int:
            self._guard(None, None, self._value)
            return value
        return SymbolicInt(self._place, value, self._expr + ((op, other, reverse),))

    def __index__(self):
        return self.exact()

    def __neg__(self):
        return -self.exact()

    def as_float(self):
        """float(self) as a SymbolicFloat (exact while |value| < 2**53, as Python's)."""
        return SymbolicFloat(self._place, float(self._value),
                             self._expr + (("float", None, False),))

    def _truediv(self, other, reverse=False):
        # int / int is the correctly rounded quotient, which float64 division of the two
        # (exactly converted) ints gives
        if type(other) in (int, float) or self._same_place(other) is not None:
            return self.as_float()._arith("truediv", other, reverse)
        if isinstance(other, _Symbolic):
            joint = _joint("truediv", self, other, reverse)
            if joint is not None:
                return joint
            other = other.exact()
        return other / self.exact() if reverse else self.exact() / other

    def traced(self, tracer):
        """This value as a 0-dim int64 tensor of the trace: the place read on every call, then
        the arithmetic that made this value from it (int64 nodes: + - * // % ** as Python
        computes them on ints of that range). What a slice's start is (windows.py)."""
        p = self._place
        t = tracer.read_input(p.container, p.key, p.label, p.original, np.int64)
        for op, other, reverse in self._expr:
            if type(other) is _Of:
                other = SymbolicInt(p, None, other).traced(tracer)
            t = _ARITH[op](other, t) if reverse else _ARITH[op](t, other)
        return t


def _joint(op, a, b, reverse):
    """a op b (b op a when reverse) of numbers read per call from two places (`self.n_epochs +
    1. / self.iters`, `lr * betas[0]`): computed by the graph (tracer.scalar_arith), a
    PerCallNumber whose comparisons are decisions on its value, rather than both guarded to
    their values. None for an op the graph does not compute as Python (//, %, **), and for
    two ints whose result is an int: front-end code takes ints (shapes, sizes) where a
    PerCallNumber, not an int to isinstance, would not do; such an int stays exact."""
    tracer = MODE.tracer
    if tracer is None or not tracer.active or op not in ("add", "sub", "mul", "truediv"):
        return None
    if op != "truediv" and type(a) is SymbolicInt and type(b) is SymbolicInt:
        return None
    return tracer.scalar_arith(op, b, a) if reverse else tracer.scalar_arith(op, a, b)


def _arith_methods(op):
    def forward(self, other):
        return self._arith(op, other)

    def reverse(self, other):
        return self._arith(op, other, reverse=True)
    return forward, reverse


for _op in _ARITH:
    _f, _r = _arith_methods(_op)
    setattr(SymbolicInt, f"__{_op}__", _f)
    setattr(SymbolicInt, f"__r{_op}__", _r)
SymbolicInt.__truediv__ = lambda self, o: self._truediv(o)
SymbolicInt.__rtruediv__ = lambda self, o: self._truediv(o, reverse=True)


class SymbolicFloat(_Symbolic):
    """Stands for a float at container[key] during a trace; see the module docstring."""
    __slots__ = ()
    stands_for = float

    @property
    def __class__(self):
        # isinstance(x, float) asks __class__ when the type says no: Python code that tests
        # for a float takes the path it takes for the value. (C code asks the type, and then
        # converts it with __float__, which guards the value.)
        return float

    def _arith(self, op, other, reverse=False):
        if self._same_place(other) is not None and op in _FLOAT_ARITH:
            of = other.as_float() if type(other) is SymbolicInt else other
            a, b = (of._value, self._value) if reverse else (self._value, of._value)
            value = _OPS[op](a, b)
            if type(value) is float:
                return SymbolicFloat(self._place, value,
                                     self._expr + ((op, _Of(of._expr), reverse),))
        if type(other) not in (int, float) or op not in _FLOAT_ARITH:
            if isinstance(other, (Tensor, TracedScalar)):
                return NotImplemented   # its reflected operator records the op
            joint = _joint(op, self, other, reverse) if isinstance(other, _Symbolic) else None
            if joint is not None:
                return joint
            x = self.exact()
            other = other.exact() if isinstance(other, _Symbolic) else other
            return _OPS[op](other, x) if reverse else _OPS[op](x, other)
        value = _OPS[op](other, self._value) if reverse else _OPS[op](self._value, other)
        if type(value) is not float:   # (a negative number to a fractional power: complex)
            self._guard(None, None, self._value)
            return value
        return SymbolicFloat(self._place, value, self._expr + ((op, other, reverse),))

    def unary(self, name):
        """math.<name>(self) (math_functions): its float64 node, when the trace reads it."""
        value = _UNARY[name](self._value)   # (raises as eager does: math.log(0.0))
        return SymbolicFloat(self._place, value, self._expr + ((name, None, False),))

    def __neg__(self):
        return self._arith("mul", -1.0)   # exactly -x in IEEE arithmetic

    def __pos__(self):
        return self

    def __round__(self, ndigits=None):
        return round(self.exact(), ndigits)

    def __trunc__(self):
        return int(self.exact())

    def traced(self, tracer):
        """This value as a graph value: the place read on every call (a 0-dim float64 input;
        int64 for an int's place, whose int arithmetic comes first), then the arithmetic and
        functions that made this value from it, as float64 nodes."""
        prims = {"add": P.add, "sub": P.sub, "mul": P.mul, "truediv": P.div, "pow": P.pow,
                 "cos": P.cos, "sin": P.sin, "exp": P.exp, "log": P.log, "sqrt": P.sqrt,
                 "tanh": P.tanh}
        p = self._place
        t = tracer.read_input(p.container, p.key, p.label, p.original,
                              np.int64 if p.kind is int else np.float64)
        for op, other, reverse in self._expr:
            if type(other) is _Of:   # (an int's expression, or a float's, of the same place)
                other = (SymbolicInt(p, None, other).traced(tracer) if t.dtype is not float64
                         else tracer._new_tensor(SymbolicFloat(p, None, other).traced(tracer)))
            if op == "float":
                t = tracer.apply(P.cast, (t,), {"dtype": float64})
            elif op in _UNARY:
                t = tracer.apply(prims[op], (t,), {})
            elif t.dtype is not float64:    # an int's arithmetic, before it met a float
                t = _ARITH[op](other, t) if reverse else _ARITH[op](t, other)
            else:
                t = tracer.apply(prims[op], (other, t) if reverse else (t, other), {})
        return tracer.value_of(t)


for _op in _OPS:
    _f, _r = _arith_methods(_op)
    setattr(SymbolicFloat, f"__{_op}__", _f)
    setattr(SymbolicFloat, f"__r{_op}__", _r)


class ArgNumber:
    """An int or float argument the runtime reads per call (`step(i)` with i a loop variable,
    `step(lr)` with a learning rate computed outside, `step(x, lr=lr)`, `step(x, (lr, mom))`:
    positional, keyword, or an item of a tuple, list or dict argument), in the arguments the
    tree walk flattens:
    equal to every other ArgNumber of its kind, so the argument structure no longer holds the
    value, which lives in container[key] for the call's guards and inputs (a Place, as a
    global's); the trace sees container[key] (a SymbolicInt or SymbolicFloat while traced)."""
    __slots__ = ("container", "key", "kind")

    def __init__(self, container, key, kind=int):
        self.container, self.key, self.kind = container, key, kind

    def __eq__(self, other):
        return type(other) is ArgNumber and other.kind is self.kind

    def __hash__(self):
        return hash(self.kind)

    def __repr__(self):
        return f"<{self.kind.__name__} read per call>"

    def value(self):
        return self.container[self.key]


def with_numbers(x):
    """x (a call's args tuple, its kwargs dict, or an item of them) with every ArgNumber in it
    replaced by the number it reads (a SymbolicInt or SymbolicFloat while traced); the
    containers around one are rebuilt, the others returned as they are."""
    if type(x) is ArgNumber:
        return x.value()
    if isinstance(x, (tuple, list)):
        items = [with_numbers(v) for v in x]
        if all(a is b for a, b in zip(items, x)):
            return x
        if hasattr(x, "_fields"):
            return type(x)(*items)
        return type(x)(items)
    if type(x) is dict:
        items = {k: with_numbers(v) for k, v in x.items()}
        return x if all(items[k] is v for k, v in x.items()) else items
    return x


class Place:
    """A global, closure cell (key None), attribute or dict entry, or (a float) a list item,
    made symbolic for one trace."""
    __slots__ = ("container", "key", "label", "loc", "kind", "guards", "original", "proxy")

    def __init__(self, container, key, label, loc, kind=int):
        self.container, self.key, self.label, self.loc = container, key, label, loc
        self.kind = kind         # int or float: the type of value it stands for
        self.guards = []
        self.original = self.proxy = None

    def _get(self):
        return _current(self.container, self.key)

    def _set(self, x):
        if self.key is None:
            self.container.cell_contents = x
        else:
            self.container[self.key] = x

    def install(self) -> bool:
        x = self._get()
        if type(x) is not self.kind:
            # an int that became a float (`total = 0` before `total += loss.item()`), or back
            if type(x) not in (int, float) or not liftable(self.container, self.key, x):
                return False
            self.kind = type(x)
        self.guards = []
        self.original = x
        self.proxy = (SymbolicInt if self.kind is int else SymbolicFloat)(self, x)
        self._set(self.proxy)
        return True

    def restore(self):
        if self.proxy is not None and self._get() is self.proxy:   # the step did not rebind it
            self._set(self.original)
        self.proxy = None

    def where(self):
        return (id(self.container), self.key)


def _math_function(name, fn):
    def call(x, *rest):
        if rest or type(x) not in (SymbolicInt, SymbolicFloat):
            return fn(x, *rest)
        return (x.as_float() if type(x) is SymbolicInt else x).unary(name)
    call.__name__ = call.__qualname__ = name
    call.__wrapped__ = fn
    return call


class MathFunctions:
    """While a trace with symbolic places runs, `math.cos`, `sin`, `exp`, `log`, `sqrt` and
    `tanh` (module attributes, restored after) compute a symbolic number as a SymbolicFloat,
    so a schedule such as `lr = min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi *
    it / n))` from a loop counter is computed by the graph on every call, not guarded per value.
    C's math reads its argument with __float__, which would guard the exact value. A function
    bound before the trace (`from math import cos`) still does that: one trace per value."""

    def __enter__(self):
        self.saved = {name: getattr(math, name) for name in _UNARY if name != "float"}
        for name, fn in self.saved.items():
            setattr(math, name, _math_function(name, fn))
        return self

    def __exit__(self, *exc):
        for name, fn in self.saved.items():
            setattr(math, name, fn)
