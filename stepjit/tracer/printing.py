"""print() of numbers the graph computes: a deferred host read, made by every call's write-back.

A training step that prints its loss every call (`print(t, loss.item())`) hands Python a number
only to write it out. Printed while traced, it made the trace describe that call only (a replay
would not print), so the step ran its Python on every call. Instead, when one argument is a
`.item()` number (decisions.TracedScalar) or a number read per call (symbolic.py: a loop counter)
and the others are str, int, bool or None (baked in, guarded where they were read), the print
waits: the trace keeps a PyPrint among its Python writes, whose numbers are outputs of the
graph, and the write-back of every call, traced or replayed, prints them with that call's
values, as eagerly (str of the same Python numbers). Any other print prints at once, as before:
a tensor (its values handed to Python), a plain float (`float(loss)` may be a number read
exactly, whose trace holds for that value only), a string formatted from the number, a file
argument; the waiting prints then print at once too, first, so the lines keep the step's order.
Output written otherwise (sys.stdout.write, logging) is not watched (values.Watch)."""
from __future__ import annotations

import builtins

from .decisions import TracedScalar
from .results import graph_value, python_value
from .symbolic import SymbolicFloat, SymbolicInt

_PLAIN = (str, int, bool, type(None))


class PyPrint:
    """print(*items, sep=sep, end=end) after every call; `traced` maps the positions of the
    numbers the graph computes to their Values (put in on each call, as values.PyAppend's)."""
    __slots__ = ("items", "traced", "sep", "end", "label")

    def __init__(self, items, traced, sep, end, label):
        self.items, self.traced, self.sep, self.end, self.label = items, traced, sep, end, label

    @property
    def values(self):
        return tuple(self.traced.values())

    def put(self, arrays):
        items = list(self.items)
        for k, a in zip(self.traced, arrays):
            items[k] = (a if not hasattr(a, "copy_to_host") else a.copy_to_host()).item()
        builtins.print(*items, sep=self.sep, end=self.end)

    def apply(self):
        builtins.print(*self.items, sep=self.sep, end=self.end)

    def same_as(self, other, rename=None) -> bool:
        if type(other) is not PyPrint or (other.sep, other.end) != (self.sep, self.end):
            return False
        if list(other.traced) != list(self.traced) or not all(
                (rename(w) if rename else w) is v
                for v, w in zip(self.traced.values(), other.traced.values())):
            return False
        plain = [(type(x), x) for k, x in enumerate(self.items) if k not in self.traced]
        return plain == [(type(x), x) for k, x in enumerate(other.items) if k not in other.traced]

    def renamed(self, rename):
        return PyPrint(self.items, {k: rename(v) for k, v in self.traced.items()}, self.sep,
                       self.end, self.label)

    def describe(self) -> str:
        items = [f"%{self.traced[k].name}" if k in self.traced else repr(x)
                 for k, x in enumerate(self.items)]
        return f"after each call: print({', '.join(items)})  (at {self.label})"


def deferred(tracer, args, kwargs, loc):
    """A PyPrint for print(*args, **kwargs) when it can wait for the write-back, else None."""
    if kwargs.get("file") is not None or set(kwargs) - {"sep", "end", "flush", "file"}:
        return None
    sep, end = kwargs.get("sep", " "), kwargs.get("end", "\n")
    if not (sep is None or type(sep) is str) or not (end is None or type(end) is str):
        return None
    items, traced = [], {}
    for k, x in enumerate(args):
        if isinstance(x, (TracedScalar, SymbolicInt, SymbolicFloat)):
            v = graph_value(tracer, x)
            if v is None:
                return None
            traced[k] = v
            items.append(python_value(x))
        elif type(x) in _PLAIN:
            items.append(x)
        else:
            return None
    return PyPrint(tuple(items), traced, sep, end, loc) if traced else None
