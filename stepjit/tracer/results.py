"""Python numbers a step leaves computed by its graph: accumulators written back every call.

Training loops keep running totals in Python: `running_loss += loss.item()`,
`correct += (pred.argmax(1) == y).sum().item()`, `n_seen += len(y)`, `self.steps += 1`,
`losses.append(loss.item())`. A trace sees `loss.item()` as a TracedScalar (decisions.py)
and arithmetic on it with Python numbers as float64 or int64 0-dim graph nodes, which round
as Python's doubles and ints do (tracer.scalar_arith); the accumulator's old value, once it
has changed between calls, is read per call as a graph input (a SymbolicFloat or SymbolicInt
stands in its place while traced, symbolic.py). So when the step returns, a place it reaches
(a global, a closure cell, an attribute, a dict or list entry) may hold such a value, or a
list it reaches may end in appended ones. Each becomes a write of the trace (among its
`py_writes`): the value is an output of the graph, and after every call, traced or replayed,
the runtime puts its Python number there (a float, an int or a bool: what `.item()` and
Python's arithmetic leave eagerly). When the trace ends each such place is given back the
value it held before (the traced call's program reads it, its write-back sets the new one),
so nothing traced outlives the trace, and the step does not run its Python every call.

Only the arithmetic above is computed by the graph. Any other use of such a value while
traced (formatting it, `math.log`, a comparison, a tensor op's operand) asks for the number
and is guarded as before: an exact or compare decision, a condition guard.

Bounds: ints are int64 in the graph (Python's are unbounded); an int divided by an int is
computed in float64, exact while both are below 2**53.
"""
from __future__ import annotations

from ..ir.graph import Value
from ..tensor import Tensor
from .decisions import TracedScalar
from .symbolic import SymbolicFloat, SymbolicInt
from .values import APPENDED_TENSOR, _current

_TRACED = (SymbolicFloat, SymbolicInt)


def _host(a):
    return a if not hasattr(a, "copy_to_host") else a.copy_to_host()   # a CUDA device value


class PyResult:
    """container[key] = the Python number of a graph output, after every call (a dict: globals,
    an object's __dict__, a dict entry; a list; or a closure cell, key None)."""
    __slots__ = ("container", "key", "value", "label")

    def __init__(self, container, key, value, label):
        self.container, self.key, self.value, self.label = container, key, value, label

    @property
    def values(self):
        return (self.value,)

    def put(self, arrays):
        x = _host(arrays[0]).item()
        if self.key is None:
            self.container.cell_contents = x
        else:
            self.container[self.key] = x

    def same_as(self, other, rename=None) -> bool:
        return (type(other) is PyResult and other.container is self.container
                and other.key == self.key
                and (rename(other.value) if rename else other.value) is self.value)

    def renamed(self, rename):
        return PyResult(self.container, self.key, rename(self.value), self.label)

    def describe(self) -> str:
        return f"after each call: {self.label} = %{self.value.name}  (computed by the step)"


def graph_value(tracer, x):
    """The Value standing for x (a TracedScalar of this trace, a SymbolicFloat or SymbolicInt),
    or None for anything else."""
    if isinstance(x, TracedScalar):
        return x._value if x._tracer is tracer else None
    if type(x) in _TRACED:
        t = x.traced(tracer)
        return t if not hasattr(t, "_data") else tracer.value_of(t)
    return None


def python_value(x):
    return x._py if isinstance(x, TracedScalar) else x._value


def take_results(tracer, snap, places):
    """PyResults for the places the step left holding a traced number, each place given back
    the value it held before the trace (the call's program reads it as an input; the call's
    write-back sets the new one); and, per list the step appended traced numbers to, {offset
    among the appended items: Value} (the items given their numbers: values.side_effects makes
    the PyAppend, and takes them back for the write-back to make). Places: the scalars the search met before the trace (values.snapshot) and the
    symbolic places. Called while the tracer is active: a symbolic value's graph nodes are
    recorded here."""
    results, seen = [], set()
    spots = [(c, k, v, label) for c, k, v, label, _ in snap.scalars.values()]
    spots += [(p.container, p.key, p.original, p.label) for p in places]
    for c, k, old, label in spots:
        where = (id(c), k)
        if where in seen:
            continue
        seen.add(where)
        x = _current(c, k)
        v = graph_value(tracer, x)
        if v is None:
            continue
        results.append(PyResult(c, k, v, label))
        _put(c, k, old)   # as before the call: its program reads it, its write-back sets it
    appended = {}
    for c, before, _, _ in snap.sizes.values():
        if type(c) is not list or len(c) <= len(before):
            continue
        n = len(before)
        for i in range(n, len(c)):
            v = graph_value(tracer, c[i]) if not isinstance(c[i], Tensor) \
                else _made_tensor(tracer, c[i])
            if v is not None:
                appended.setdefault(id(c), {})[i - n] = v
                c[i] = APPENDED_TENSOR if isinstance(c[i], Tensor) else python_value(c[i])
    return results, appended


def _made_tensor(tracer, t):
    """The Value of a tensor the step made, appended to a list it reaches (`self.losses.append(
    loss)`): each call appends a fresh tensor holding it, so the trace-time tensor does not
    outlive the trace as state. Not one the step made that requires grad with no backward of
    its own run (its history is what a later backward would need), nor a leaf that requires
    grad (a parameter made on a first call), nor one it read (an outside tensor)."""
    v = t._data
    if not isinstance(v, Value) or id(t) in tracer.touched:
        return None
    if t._requires_grad and (t._grad_fn is None or not tracer.backward_runs):
        return None
    return v


def _put(c, k, x):
    if k is None:
        c.cell_contents = x
    else:
        c[k] = x
