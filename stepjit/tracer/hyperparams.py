"""Python numbers a step reads from mutable containers: optimizer hyperparameters.

A Python float used in a tensor op becomes a literal in the IR, so a trace would
replay the lr it saw. Values that are meant to change between calls are read
through `dispatch.read_group` instead, which the optimizer's `step()` calls on each
parameter group (while tracing it asks `Tracer.read_group`, which makes a GroupView):

  - keys listed in the optimizer's `runtime_hyperparams` (default: "lr") whose
    value is a Python number become 0-dim float64 graph inputs (PyInput). The
    runtime reads `group[key]` again on every call, so a schedule that changes
    `param_groups[i]['lr']` takes effect without a recompile. (float64, like the
    Python double it stands for; a 0-dim tensor does not promote the parameters.)
  - every other key the update reads is baked into the trace and guarded
    (PyGuard): changing `weight_decay` or `momentum` retraces, naming the key.
  - a value the step changed after an update read it (two updates in one call with a
    scheduler step between: `opt.step(); sched.step(); opt.step()`, a compiled epoch) is baked
    in where it is read, and the number the call began with is guarded instead of read per call.
  - a value the step itself stored in the group before `step()` (a schedule in the loop
    body: `for g in opt.param_groups: g['lr'] = lr_at(it)`) is what the update reads. When
    it is a symbolic number (symbolic.py: computed from a counter read per call) the graph
    computes it on every call; when it is a plain number, the trace holds for calls that
    begin with the group holding it (values.value_guards), as a constant set each call does.

Eagerly `read_group` returns the group itself, so eager `step()` costs nothing.
"""
from __future__ import annotations


_MISSING = object()


class PyInput:
    """container[key] (a dict or a list; or a closure cell, key None), read on every call as a
    0-dim float64 graph input."""
    __slots__ = ("value", "container", "key", "label", "type", "segment", "tensor")

    def __init__(self, value, container, key, label, typ, segment, tensor=None):
        self.value = value
        self.container = container
        self.key = key
        self.label = label
        self.type = typ
        self.segment = segment
        self.tensor = tensor

    def read(self):
        if self.key is None:
            try:
                return self.container.cell_contents
            except ValueError:
                return _MISSING
        if type(self.container) is list:    # a float in a list (lrs[k]), symbolic.py
            return self.container[self.key] if self.key < len(self.container) else _MISSING
        return self.container.get(self.key, _MISSING)

    def failed(self):
        x = self.read()
        if type(x) is not self.type:
            return f"{self.label} is now {x!r} (traced as a {self.type.__name__})"
        return None


class PyGuard:
    """The trace baked container[key] == value in."""
    __slots__ = ("container", "key", "value", "label", "segment", "loc")

    def __init__(self, container, key, value, label, segment, loc):
        self.container = container
        self.key = key
        self.value = value
        self.label = label
        self.segment = segment
        self.loc = loc

    def failed(self):
        x = self.container.get(self.key, _MISSING)
        try:
            same = type(x) is type(self.value) and bool(x == self.value)
        except Exception:
            same = x is self.value
        if same:
            return None
        return (f"{self.label} changed from {self.value!r} to {x!r} "
                f"(read at {self.loc}  {self.loc.text})")


class GroupView(dict):
    """A parameter group as the traced update sees it: lifted numbers, guarded constants."""

    def __init__(self, group, tracer, label, lifted_keys):
        super().__init__(group)
        self._group = group
        self._tracer = tracer
        self._label = label
        self._lifted = lifted_keys

    def __getitem__(self, key):
        x = self._group[key]
        if key == "params":
            return x
        label = f"{self._label}['{key}']"
        if key in self._lifted and type(x) in (float, int):
            first = self._tracer.input_value(self._group, key)
            if first is None or first == x:
                return self._tracer.read_input(self._group, key, label)
            # The step changed it after an update had read it as the call's input (a
            # scheduler stepped between two optimizer steps of one call): the update reads
            # what the group holds now, which the step's Python made from the number the call
            # began with, so that number is guarded instead of read per call.
            self._tracer.guard_value(self._group, key, first, label)
            return x
        kind = getattr(type(x), "stands_for", None)
        if kind is not None:
            # the step set it from a number read per call (`g['lr'] = lr_at(it)`, symbolic.py):
            # the graph computes it from that number on every call
            return self._tracer.number_tensor(x) if key in self._lifted and kind is float \
                else x.exact()
        self._tracer.guard_value(self._group, key, x, label)
        return x

    def get(self, key, default=None):
        return self[key] if key in self._group else default
