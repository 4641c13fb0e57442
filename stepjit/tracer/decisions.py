"""Data-dependent decisions: where Python code looked at a tensor's value while being traced.

A Decision is recorded at the moment Python *uses* a value, and remembers what
it saw as a key. At run time the compiled program stops there (the trace is cut
into segments at its decisions), the runtime computes the same key from the
values the segment produced, and follows the branch of the trace tree with that
key, or traces again to grow a new one.

Three kinds, from cheapest to most specific:
  truth    `if s:` on a traced scalar           key: bool(value)
  compare  `s > 0.5`, `s == t` on traced scalars  key: the comparison's outcome
  exact    `bool(t)`, `t.tolist()`, `float(t)`, formatting a traced scalar,
           `math.log` of it...                   key: the value's bytes

`t.item()` returns a TracedScalar rather than a float: returning it from the step
costs no guard at all (the runtime returns the fresh value each call), and
comparing it guards only the comparison's outcome, so `if loss.item() > limit`
gives two traces however the loss moves. Adding, subtracting, multiplying or dividing
it by Python numbers (or other traced numbers) gives another TracedScalar the graph
computes as Python does (Tracer.scalar_arith): `running_loss += loss.item()` costs no
decision, and results.py writes such a value back where the step leaves it. Any other
use leaves the tracer's sight (the float goes into arbitrary Python) and records the
exact value.
"""
from __future__ import annotations

import operator

import numpy as np

from ..ir.graph import Value
from ..ir.types import FLOAT
from ..tensor import Tensor

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def _py(env, x):
    return _host(env[x]).item() if isinstance(x, Value) else x


def _host(a):
    """A decision's value on the host: values on the CUDA device are copied (the one place a
    compiled CUDA step reads device memory from the host)."""
    return a if isinstance(a, np.ndarray) or not hasattr(a, "copy_to_host") else a.copy_to_host()


class Decision:
    __slots__ = ("kind", "value", "op", "other", "seen", "position", "loc", "shown")

    def __init__(self, kind, value, seen, position, loc, op=None, other=None, shown=None):
        self.kind = kind            # "exact" | "truth" | "compare"
        self.value = value          # the Value looked at
        self.op = op                # compare: one of _OPS
        self.other = other          # compare: a Value or a Python number
        self.seen = seen            # the key the trace followed
        self.position = position    # number of graph nodes before it: where the trace is cut
        self.loc = loc              # the user's line (a Loc)
        self.shown = shown          # what Python saw, for messages

    def key(self, env):
        if self.kind == "compare":
            return bool(_OPS[self.op](_host(env[self.value]).item(), _py(env, self.other)))
        a = _host(env[self.value])
        if self.kind == "truth":
            return bool(a)
        return exact_key(a)

    def floats_read_exactly(self) -> bool:
        """Python saw the exact value of a float (printed it, computed with it): such values
        rarely repeat, so a branch per value would never be reused."""
        return self.kind == "exact" and self.value.dtype.category == FLOAT

    def describe(self, key=None) -> str:
        """`loss.item() > 0.5 was True` style text; with key, what it is now."""
        what = self.expression()
        seen = self.shown if self.kind == "exact" else self.seen
        text = f"{what} was {seen!r}"
        return text if key is None else f"{text}, now {self.show(key)!r}"

    def expression(self) -> str:
        v = f"%{self.value.name}"
        if self.kind == "compare":
            o = f"%{self.other.name}" if isinstance(self.other, Value) else repr(self.other)
            return f"{v}.item() {self.op} {o}"
        if self.kind == "truth":
            return f"bool({v}.item())"
        return f"the value of {v}"

    def show(self, key):
        if self.kind != "exact":
            return key
        a = np.frombuffer(key, dtype=self.value.dtype.np).reshape(self.value.shape)
        return a.tolist()

    def where(self) -> str:
        return f"{self.loc}  {self.loc.text}" if self.loc is not None else "?"

    def same_spec(self, other, rename) -> bool:
        """Same question asked (the outcome may differ); `rename` maps other's values to ours."""
        if self.kind != other.kind or self.op != other.op:
            return False
        if rename(other.value) is not self.value:
            return False
        if isinstance(self.other, Value) or isinstance(other.other, Value):
            return isinstance(other.other, Value) and rename(other.other) is self.other
        return type(self.other) is type(other.other) and self.other == other.other

    def renamed(self, rename):
        other = rename(self.other) if isinstance(self.other, Value) else self.other
        return Decision(self.kind, rename(self.value), self.seen, self.position, self.loc,
                        self.op, other, self.shown)


def exact_key(a) -> bytes:
    return np.ascontiguousarray(a).tobytes()


class TracedScalar:
    """What `t.item()` returns while tracing: a Python number whose uses the tracer watches.

    It is deliberately not a float subclass: C code (math.*, float.__add__) would read a
    float subclass's value without asking, and the trace would silently bake it in."""
    __slots__ = ("_tracer", "_value", "_py", "_loc", "__weakref__")
    stands_for = None     # (PerCallNumber: a Python number, as a tensor op's operand)

    def __init__(self, tracer, value, py, loc=None):
        self._tracer = tracer
        self._value = value
        self._py = py
        self._loc = loc   # the user's line that called .item()

    # -- uses the tracer understands --------------------------------------------------
    def _compare(self, op, other):
        if isinstance(other, TracedScalar):
            other_v, other_py = other._value, other._py
        elif getattr(type(other), "stands_for", None) is not None and self._tracer.active:
            # a number read per call (symbolic.py: `best = min(best, loss.item())`): compared
            # as the graph value it stands for, so the decision holds whatever it is then
            other_v, other_py = self._tracer.number_operand(other)
        elif isinstance(other, (bool, int, float)):
            other_v, other_py = other, other
        else:
            return NotImplemented
        outcome = bool(_OPS[op](self._py, other_py))
        if self._tracer.active:
            self._tracer.decide_compare(self._value, op, other_v, outcome)
        return outcome

    def __lt__(self, o):
        return self._compare("<", o)

    def __le__(self, o):
        return self._compare("<=", o)

    def __gt__(self, o):
        return self._compare(">", o)

    def __ge__(self, o):
        return self._compare(">=", o)

    def __eq__(self, o):
        return self._compare("==", o)

    def __ne__(self, o):
        return self._compare("!=", o)

    def __bool__(self):
        if self._tracer.active:
            self._tracer.decide_truth(self._value, bool(self._py))
        return bool(self._py)

    # -- every other use: the exact value leaves the tracer's sight ---------------------
    def value(self):
        """The Python number, recorded as an exact decision."""
        if self._tracer.active:
            self._tracer.decide_exact(self._value, self._py)
        return self._py

    def __float__(self):
        return float(self.value())

    def __int__(self):
        return int(self.value())

    def __index__(self):
        return operator.index(self.value())

    def __hash__(self):
        return hash(self.value())

    def __format__(self, spec):
        return format(self.value(), spec)

    def __str__(self):
        return str(self.value())

    def __repr__(self):
        return repr(self.value())

    def __round__(self, n=None):
        return round(self.value(), n)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value(), dtype=dtype)

    def __neg__(self):
        return self * -1    # exactly -x, for a float (in IEEE arithmetic) and an int alike

    def __pos__(self):
        return +self.value()

    def __abs__(self):
        return abs(self.value())


_TRACED = ("add", "sub", "mul", "truediv")   # what the graph computes as Python does


def _binary(name):
    op = getattr(operator, name)
    traced = name in _TRACED

    def forward(self, other):
        if traced and self._tracer.active:
            out = self._tracer.scalar_arith(name, self, other)
            if out is not None:
                return out
        if type(self).stands_for is not None and isinstance(other, Tensor):
            return NotImplemented   # a number read per call: the tensor's operator reads it
        if isinstance(other, TracedScalar):
            other = other.value()
        return op(self.value(), other)

    def reverse(self, other):
        if traced and self._tracer.active:
            out = self._tracer.scalar_arith(name, other, self)
            if out is not None:
                return out
        if type(self).stands_for is not None and isinstance(other, Tensor):
            return NotImplemented
        return op(other, self.value())
    return forward, reverse


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    _f, _r = _binary(_name)
    setattr(TracedScalar, f"__{_name}__", _f)
    setattr(TracedScalar, f"__r{_name}__", _r)


class PerCallNumber(TracedScalar):
    """A number the graph computes from numbers read per call alone (symbolic.py: two of
    them combined, `self.n_epochs += 1. / self.iters`, `lr * betas[0]`; no `.item()` in it):
    a TracedScalar, and, as a tensor op's operand, the graph value itself (a 0-dim float64 or
    int64 that promotes as a Python number does), as a SymbolicFloat is, not its exact value."""
    __slots__ = ()

    def traced(self, tracer):
        return self._value

    def exact(self):
        return self.value()


class PerCallFloat(PerCallNumber):
    __slots__ = ()
    stands_for = float


class PerCallInt(PerCallNumber):
    __slots__ = ()
    stands_for = int


class ConcreteRead:
    """What the tracer hands `Tensor.item / tolist / __bool__` (through dispatch.concrete): each
    of those says how it uses the value, so each records the right kind of decision."""
    __slots__ = ("_tracer", "_value", "_array")

    def __init__(self, tracer, value, array):
        self._tracer = tracer
        self._value = value
        self._array = array

    def item(self):
        return self._tracer.scalar(self._value, self._array.item())

    def tolist(self):
        return self._exact().tolist()

    def __bool__(self):
        return bool(self._exact())

    def __array__(self, dtype=None, copy=None):
        a = self._exact()
        return a if dtype is None else a.astype(dtype)

    def __getattr__(self, name):
        return getattr(self._exact(), name)

    def _exact(self):
        self._tracer.decide_exact(self._value, self._array)
        return self._array
