"""Guards on the names a step reaches its outside tensors through.

A tensor the step reads without receiving it as an argument (a global `w`, a
closure's weights) is lifted by identity: the trace holds that tensor object.
If the user then rebinds the name (`w = torch.randn(...)` between calls), the
step's Python would read the new tensor while the trace would replay the old
one: a silently wrong result. So a trace also guards, for every lifted tensor
bound to a global of the step's module or to a cell of its closure, that the
name is still bound to that very object; rebinding it retraces.

Not covered (docs/compiler.md): a tensor reached through an attribute or a
container (`model.w = ...`, `params[0] = ...`) rebound between calls.
"""
from __future__ import annotations

from ..ir.graph import Loc
from .hyper import _MISSING, PyGuard


class BindingGuard(PyGuard):
    """container[key] (a module's globals) or a closure cell (key None) still holds `value`
    itself: identity, where a PyGuard compares values."""
    __slots__ = ()

    def current(self):
        if self.key is None:                  # a closure cell
            try:
                return self.container.cell_contents
            except ValueError:
                return _MISSING
        return self.container.get(self.key, _MISSING)

    def failed(self):
        if self.current() is self.value:
            return None
        return f"{self.label} was rebound to another object (the trace read the old tensor)"

    def same_as(self, other) -> bool:
        return (type(other) is BindingGuard and other.container is self.container
                and other.key == self.key and other.value is self.value)

    def describe(self) -> str:
        return f"{self.label} is the tensor the trace lifted  (step defined at {self.loc})"


def binding_guards(fn, slots) -> list:
    """A BindingGuard for each lifted ("obj") slot whose tensor a global or closure name of fn
    holds, in the segment that first touched it."""
    fn = getattr(fn, "__func__", fn)          # a bound method: the function's own namespaces
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    lifted = {id(s.slot[1]): s for s in slots if s.slot[0] == "obj"}
    if not lifted:
        return []
    loc = Loc(code.co_filename, code.co_firstlineno, f"def {code.co_name}")
    out = []
    for name, obj in list(getattr(fn, "__globals__", {}).items()):
        spec = lifted.get(id(obj))
        if spec is not None:
            out.append(BindingGuard(fn.__globals__, name, obj, f"global {name}", spec.segment, loc))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            obj = cell.cell_contents
        except ValueError:
            continue
        spec = lifted.get(id(obj))
        if spec is not None:
            out.append(BindingGuard(cell, None, obj, f"closure variable {name}", spec.segment, loc))
    return out
