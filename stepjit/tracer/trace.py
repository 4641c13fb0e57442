"""Running a function under the tracer and packaging what it recorded as a Trace.

A Trace is plain data for the runtime: the Graph, how to find each graph input
on a later call (slots), the guards that say when the trace applies, the
decisions the Python code took on tensor values, the writes to apply after a
call, and how to rebuild the function's result.
"""
from __future__ import annotations

import functools
import gc
import inspect
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from .. import dispatch
from ..autograd.grad_mode import STATE as GRAD
from ..ir.graph import Value
from ..ir.interpreter import evaluate
from ..tensor import Tensor
from . import aot, printing
from . import aliases
from .bindings import BindingGuard, binding_guards
from .names import name_hints
from .decisions import TracedScalar
from .draws import Draws
from .helpers import def_loc
from .arrays import ArrayArgument, NamedArrays, input_tensor, returned_arrays
from .attr_lists import ListVia, through_attribute
from .pytree import flatten, has_arrays, unflatten
from .rebinding import write_back_rebinds
from .results import take_results
from .sources import NamePlace, read_by_name, rebound_names
from .records import read_records
from .structures import read_containers
from .symbolic import MathFunctions, with_numbers
from .tracer import TraceError, Tracer
from .values import LengthGuard, ValueGuard, Watch, path_guards, side_effects, snapshot, value_guards


@dataclass
class SlotSpec:
    """A real tensor the trace reads or writes, and what the trace assumed about it."""
    label: str
    slot: tuple                 # ("arg", i) | ("obj", tensor) | ("grad", k) | ("name", NamePlace)
    shape: tuple
    dtype: object
    requires_grad: bool
    grad_is_none: bool | None   # guarded when the step read .grad before writing it
    value: Value | None         # graph input bound to its data, if read
    data_write: Value | None    # its new data, if the step changed it
    replaced: bool              # `.data = ...`: new storage rather than an in-place write
    grad_write: tuple | None    # ("none",) | ("object", k) | ("new", Value)
    segment: int = 0            # the segment (count of decisions before it) that first needs it


@dataclass
class Trace:
    graph: object
    arg_treedef: object
    arg_signature: tuple        # (shape, dtype, requires_grad) per flat tensor argument
    grad_enabled: bool
    slots: list
    constants: list             # (Value, array)
    decisions: list             # Decision (tracer/decisions.py), in order
    out_treedef: object
    out_specs: list             # ("value", Value) | ("object", k) | ("item", Value)
    escapes: list = field(default_factory=list)   # (tensor, Value): state made by the step;
                                # (NamePlace, Value): a name rebound to a fresh tensor per call
    py_inputs: list = field(default_factory=list)  # PyInput: numbers read each call (lr)
    py_guards: list = field(default_factory=list)  # PyGuard: Python values baked in
    constant_segment: dict = field(default_factory=dict)  # constant Value -> segment
    reusable: bool = True
    why_not_reusable: str | None = None
    arg_aliases: tuple | None = None   # aliases_of the flat tensor arguments
    nondeterministic: object = None    # values.Nondeterministic: a call like random.random()
    aot: object = None          # aot.AotSpec: the results' compiled backward, when they need one
    per_call: str | None = None        # why the step's Python must run on every call
    per_call_warns: bool = False       # ... and whether the user is told (a warning)
    named_first: list = field(default_factory=list)  # (NamePlace, tensor): what "name" slots
                                # held when the trace began, until its own call has run
    py_writes: list = field(default_factory=list)  # values.PyWrite: bools set, replayed
    # A trace of one call that did what no replay does (printed, appended a tensor to a history
    # list): if the next call's trace does so again, the step runs its Python on every call,
    # rather than one trace per call up to the recompile limit (and the user is told, or not)
    per_call_if_again: str | None = None
    per_call_if_again_warns: bool = True
    # A trace for one call (once): the interpreter's values of what it evaluated for the step's
    # Python (everything before its last decision), which that call need not compute again
    values: dict | None = None


def flat_args(args, kwargs):
    """(tensors, treedef) of a call's arguments: its tensors, and a tensor over the same memory
    for each NumPy array it passes (arrays.py), one per array object."""
    made = {}

    def array_input(x):
        if type(x) is not np.ndarray and not isinstance(x, np.ndarray):
            return None
        t = made.get(id(x))
        if t is None:
            t = made[id(x)] = input_tensor(x)
        return t

    return flatten((args, kwargs), _is_tensor, array_input)


def _is_tensor(x):
    return isinstance(x, Tensor)


def _with_array_arguments(tracer, args, kwargs, flat, treedef):
    """args and kwargs with an ArrayArgument for each array flat_args took as an input."""
    if not has_arrays(treedef):
        return args, kwargs
    leaves, _ = flatten((args, kwargs), lambda x: isinstance(x, Tensor) or (
        isinstance(x, np.ndarray) and input_tensor(x) is not None))
    given = [a if isinstance(a, Tensor) else ArrayArgument(a, t, tracer)
             for a, t in zip(leaves, flat)]
    return unflatten(treedef, given)


def signature_of(flat):
    return tuple((t._data.shape, t._data.dtype, t._requires_grad) for t in flat)


def aliases_of(flat):
    """None when every flat tensor argument is another tensor (the usual case); else, for each
    position, the first position holding the same tensor. A trace binds a tensor passed twice
    once, so a call must alias the same positions to use it."""
    if len(set(map(id, flat))) == len(flat):
        return None
    first = {}
    return tuple(first.setdefault(id(t), i) for i, t in enumerate(flat))


def _arg_names(fn, args, kwargs, n):
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return [f"arg{i}" for i in range(n)]
    names = []
    for name, value in bound.arguments.items():
        leaves, _ = flatten(value, lambda x: isinstance(x, Tensor))
        names.extend([name] if len(leaves) == 1 else [f"{name}_{i}" for i in range(len(leaves))])
    return names if len(names) == n else [f"arg{i}" for i in range(n)]


def trace(fn, args, kwargs, name=None, symbolic=(), once=False):
    """Run fn(*args, **kwargs) once under a tracer; return the Trace. No real tensor changes.
    symbolic: symbolic.Place objects, ints that are traced as SymbolicInts (symbolic.py).
    once: the trace runs this call only (per-call retracing): what serves only a trace that is
    reused (Python value and binding guards, watching for nondeterministic calls, readable
    names of lifted inputs) is skipped, so a retrace costs little more than the Python step."""
    flat, treedef = flat_args(args, kwargs)
    signature = signature_of(flat)
    tracer = Tracer(name or getattr(fn, "__name__", "step"), None if once else name_hints(fn, args),
                    once)
    for i, (t, n) in enumerate(zip(flat, _arg_names(fn, args, kwargs, len(flat)))):
        if id(t) in tracer.touched:
            continue  # the same tensor passed twice: one input
        tracer.arg_slots[id(t)] = i
        tracer.bind_argument(t, i, n)
    # Python values the step may read, before it runs
    before = None if once else snapshot(fn, (*args, *kwargs.values()))
    prev, dispatch.MODE.tracer = dispatch.MODE.tracer, tracer
    places = [] if once else [p for p in symbolic if p.install()]
    args, kwargs = with_numbers(args), with_numbers(kwargs)   # (SymbolicInts now)
    args, kwargs = _with_array_arguments(tracer, args, kwargs, flat, treedef)
    tracer.floats = bool(places)   # (an int's place may give floats: `lr * it / n`)
    tracer.ints = any(p.kind is int for p in places)
    # A trace allocates thousands of small cyclic objects (tensors and their tape nodes):
    # automatic collections during it would scan the whole heap (Numba's is large) several
    # times per trace, the biggest cost of a per-call retrace. _escapes collects the young
    # generations once, at the end.
    collecting = gc.isenabled()
    named = None
    gc.disable()
    tracer.promotions = _promotions()
    try:
        if once:
            result = _Result(returned_arrays(tracer, fn(*args, **kwargs)))
            out = _finish(tracer, result, signature, treedef)
            out.arg_aliases = aliases_of(flat)
            out.values = tracer.env
            return out
        named = NamedArrays(fn, tracer, before)     # (arrays it reaches: inputs, arrays.py)
        defer = functools.partial(printing.deferred, tracer)
        with Watch(def_loc(fn), Draws(tracer), defer) as watch, \
                (MathFunctions() if places else nullcontext()):
            result = _Result(returned_arrays(tracer, fn(*args, **kwargs)))
        named.restore()
        watch.draws.put_back()     # (a drawn array the step keeps: this call only, draws.py)
        if watch.printed is not None:
            _printed(tracer, watch.printed)
        for p in places:
            p.restore()      # before the searches below look at the values (no exact use)
        results, appended = take_results(tracer, before, places)
        for w in results:
            tracer.graph.outputs.append(w.value)
        for per_list in appended.values():
            tracer.graph.outputs.extend(per_list.values())
        for p in watch.deferred:
            tracer.graph.outputs.extend(p.values)
        write_back_rebinds(tracer, before, fn)
        out = _finish(tracer, result, signature, treedef, fn, before)
        _inputs_back(places, out)
        out.arg_aliases = aliases_of(flat)
        named.read_by_name(out.slots)
        drawn = watch.draws.read_by_place(out.slots)    # (NumPy draws: inputs, draws.py)
        # (a batch record the loop rebinds first: read_by_name would read its attributes
        # through this call's object, records.py)
        guards, aside = aliases.set_aside(fn, out.slots, before,
                                          binding_guards(fn, out.slots, before.helper_roots), flat)
        guards, firsts, records = read_records(fn, out.slots, before, guards, out.py_inputs)
        guards, out.named_first = read_by_name(fn, out.slots, before, guards, out.escapes)
        alias_writes, kept = aliases.writes(out.slots, aside, flat)
        guards += kept
        out.named_first += firsts + drawn
        out.py_guards.extend(guards)
        skip = {(id(p.container), p.key) for p in out.py_inputs} | {p.where() for p in places}
        skip |= {(id(p.container), p.key) for p, _, _ in named.held}   # (inputs: arrays.py)
        skip |= {(i, None) for i in read_containers(out.named_first)}   # (their items: by name)
        last = len(out.decisions)
        written = {(id(w.container), w.key) for w in results}
        # what each number read per call held when the step's update read it
        read_as = {(id(p.container), p.key): tracer.env[p.value].item() for p in out.py_inputs
                   if isinstance(p.key, str) and p.value in tracer.env}
        guards = value_guards(fn, before, last, written, read_as)
        skip -= before.set_first    # (the number the call must begin with: value_guards)
        guards = [g for g in guards if (id(g.container), g.key) not in skip]
        out.py_guards.extend(g for g in (through_attribute(g, before) for g in guards)
                             if (id(g.container), g.key) not in skip)
        for p in places:     # (each guard in the segment where Python asked: segment_now)
            out.py_guards.extend(p.guards)
        out.nondeterministic = watch.nondeterministic
        changed = next(iter(before.changed), None)
        if changed is not None and out.nondeterministic is None:
            if out.reusable:
                out.nondeterministic = changed
            else:   # (a trace of this call only already: it printed, handed values out)
                out.per_call_if_again = (f"{changed.reason()}, which a replayed trace would "
                                         "not do again: its Python runs on every call")
        out.py_writes = before.writes + results + _replayed_side_effects(out, before, fn,
                                                                          watch.printed, appended)
        out.py_writes += alias_writes
        out.py_writes += watch.deferred     # (prints of the graph's numbers: printing.py)
        out.py_guards.extend(_container_guards(out, before, [*places, *named.taken], fn))
        if records:     # (what a record guard checks: records.py)
            out.py_guards = [g for g in out.py_guards if not records.replaced(g)]
        out.py_guards.extend(named.value_guards(tracer, len(out.decisions), def_loc(fn)))
        _array_arguments(out, tracer, fn, args, kwargs)
    finally:
        if collecting:
            gc.enable()
        for p in places:
            p.restore()
        if named is not None:
            named.restore()
        dispatch.MODE.tracer = prev
        tracer.active = False
        for rec in tracer.records:
            rec.restore()
    return out


def _inputs_back(places, out):
    """A number read per call that the step rebound to a tensor it made (build-nanogpt's
    `loss_accum = 0.0` before the micro-steps, `loss_accum += loss.detach()` in each): the
    name is rebound after every call to a fresh tensor (sources.py, found in _finish), and the
    call's program reads the number the place held when the call began, which is put back."""
    rebound = {(id(p.container), p.key) for p, _ in out.escapes if isinstance(p, NamePlace)}
    for p in places:
        if p.where() in rebound and type(p.original) in (int, float):
            _put_place(p, p.original)


def _put_place(p, x):
    if p.key is None:
        p.container.cell_contents = x
    else:
        p.container[p.key] = x


def _container_guards(out, before, places, fn):
    """Identity guards on the paths to the containers whose entries the trace reads or writes
    by reference (values.path_guards); places: the numbers and arrays read per call through
    their place (symbolic.Place, arrays.ArrayPlace)."""
    containers = {}
    for g in out.py_guards:
        if type(g) in (ValueGuard, LengthGuard):   # (a ListVia: the path to its object's dict)
            c = g.container.d if type(g.container) is ListVia else g.container
            containers[id(c)] = c
    for x in [*out.py_writes, *out.py_inputs, *places]:
        c = getattr(x, "container", None)
        if c is not None:
            containers[id(c)] = c
    have = {(id(g.container), g.key if type(g.key) in (str, int) or g.key is None else id(g.key))
            for g in out.py_guards if type(g) is BindingGuard}
    return path_guards(before, containers.values(), len(out.decisions), def_loc(fn), have)


def _array_arguments(out, tracer, fn, args, kwargs):
    """A NumPy array passed to the step is an input of the trace (arrays.py) while the step
    only makes tensors of it. One it also computes with as NumPy (`x / 255`, `np.mean(x)`), or
    one of a dtype stepjit does not compute in, gives constants of this call's values, which a
    replay would repeat whatever array the next call passes: such a step runs its Python on
    every call, and the warning says where and how to make the array an input."""
    if out.per_call is not None:
        return
    loc = def_loc(fn)
    if tracer.numpy_use is not None:
        out.per_call = (f"the step uses {tracer.numpy_array} as NumPy (computes with it, "
                        f"returns or keeps it; at {tracer.numpy_use}), which a replayed trace would "
                        "repeat with this call's array; make it a tensor first "
                        "(torch.from_numpy(a)) to make it an input")
        out.per_call_warns = True
        return
    arrays, _ = flatten((args, kwargs), lambda x: type(x) is not ArrayArgument and
                        isinstance(x, np.ndarray))
    if not arrays:
        return
    out.per_call = (f"the step takes a NumPy array argument (at {loc}: `{loc.text}`) of a "
                    f"dtype stepjit does not compute in ({arrays[0].dtype}), whose values a "
                    "replayed trace would repeat; pass a tensor of a supported dtype to make it "
                    "an input")
    out.per_call_warns = True


def _printed(tracer, loc):
    """The step printed: a replay would not, even of the same text. Its trace describes that
    call only (as one that made state); a step that prints on every call then runs its Python
    on every call (runtime/compiled.py), one that prints now and then replays in between."""
    if tracer.reusable:
        tracer.reusable = False
        tracer.why_not_reusable = f"the step prints (at {loc}: `{loc.text}`), which a replay would not"


def _replayed_side_effects(out, before, fn, printed, appended=None):
    """The entries the step added to containers it reaches (values.side_effects), taken back
    and made by the write-back of this call and of every replay; a change no write-back can
    make (an object appended, an entry removed) makes the step's Python run on every call, as
    a kept `.item()` does."""
    appends, other = side_effects(before, {(id(t.root.container), t.root.key)
                                           for t, _ in out.escapes if hasattr(t, "root")},
                                 appended)
    if other is not None and out.per_call is None and out.nondeterministic is None:
        why = (f"the step changes {other.what} in a way a replayed trace would not (at "
               f"{other.loc}: `{other.loc.text}`): Python that does so must run on every call")
        if out.reusable:
            out.per_call, out.per_call_warns = why, True
        else:   # (state made on a first step, or kept on every call: the runtime tells them)
            out.per_call_if_again = out.per_call_if_again or why   # (.numpy() first: the cause)
    if printed is not None and out.per_call_if_again is None:
        loc = printed
        out.per_call_if_again = (f"the step prints on every call (at {loc}: `{loc.text}`), which a "
                                 "replayed trace would not: its Python runs on every call")
        out.per_call_if_again_warns = False     # (printing a loss every step is ordinary)
    for a in appends:
        a.undo()
    return appends


class _Result:
    """Holds the step's result so that _finish can drop the last reference to it."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _outputs(tracer, holder):
    out_flat, out_treedef = flatten(holder.value, lambda x: isinstance(x, (Tensor, TracedScalar)))
    holder.value = None
    tracer.check_history()
    spec = aot.derive(tracer, out_flat) if aot.wanted(tracer, out_flat) else None
    out_specs = []
    for t in out_flat:
        if isinstance(t, TracedScalar):   # `return loss.item()`: the fresh number every call
            tracer.graph.outputs.append(t._value)
            out_specs.append(("item", t._value))
            continue
        rec = tracer.touched.get(id(t))
        if rec is not None:
            out_specs.append(("object", rec.index))
        else:
            v = tracer.value_of(t)
            tracer.graph.outputs.append(v)
            out_specs.append(("value", v))
        t._grad_fn = None if rec is None else t._grad_fn
    return out_treedef, out_specs, spec


def _finish(tracer, holder, signature, treedef, fn=None, snap=None):
    g = tracer.graph
    out_treedef, out_specs, aot_spec = _outputs(tracer, holder)
    _touch_assigned_grads(tracer)
    slots = [_slot_spec(tracer, rec) for rec in tracer.records]
    for spec, rec in zip(slots, tracer.records):
        spec.grad_write = _grad_write(tracer, rec)
    _check_aliasing(slots, tracer.records)
    trace = Trace(g, treedef, signature, GRAD.enabled, slots, tracer.constants,
                  tracer.decisions, out_treedef, out_specs, reusable=tracer.reusable,
                  why_not_reusable=tracer.why_not_reusable, py_inputs=tracer.py_inputs,
                  py_guards=tracer.py_guards, constant_segment=tracer.constant_segment,
                  aot=aot_spec)
    for p in trace.py_inputs:
        p.tensor = None   # a trace-time tensor: the trace must not keep it alive
    trace.escapes = _escapes(tracer, trace, fn, snap)
    return trace


def _touch_assigned_grads(tracer):
    """A real tensor assigned as some .grad is outside state too.

    (A helper, not a loop in _finish: a loop variable left bound in a live frame would keep a
    trace-time tensor alive and make it look like an escape.)"""
    for rec in list(tracer.records):
        new = rec.obj._grad
        # (a .grad the step left alone is not state the trace depends on: held by identity,
        # it would tell apart traces made before and after the optimizer replaced it)
        if new is not None and new is not rec.orig_grad and not isinstance(new._data, Value):
            tracer.touch(new)


def _slot_spec(tracer, rec):
    t = rec.obj
    data_write = None
    if isinstance(t._data, Value) and t._data is not rec.value:
        data_write = t._data
        tracer.graph.writes.append(("@" + rec.label, data_write))
    data = rec.orig_data
    return SlotSpec(rec.label, rec.slot, data.shape, dispatch.dtype_of_array(data),
                    rec.orig_requires_grad,
                    (rec.orig_grad is None) if rec.grad_access == "read" else None,
                    rec.value, data_write, rec.replaced, None, rec.segment)


def _grad_write(tracer, rec):
    """How the step changed rec's `.grad` field (not the grad's values: those are its own slot)."""
    new = rec.obj._grad
    if new is rec.orig_grad:
        return None
    if new is None:
        return ("none",)
    if id(new) in tracer.touched:
        return ("object", tracer.touched[id(new)].index)
    g = tracer.graph
    v = tracer.value_of(new)
    label = "@" + rec.label + ".grad"
    if any(existing == label for existing, _ in g.writes):
        label += ":new"  # the old .grad object was written in place, then replaced
    g.writes.append((label, v))
    return ("new", v)


def _deref(ref):
    return ref()


def _alive(ref):
    t = ref()
    return t is not None and isinstance(t._data, Value)


def _promotions():
    """Collections so far that moved young objects to the old generation (those of
    generations 1 and 2: ours in _escapes is one)."""
    stats = gc.get_stats()
    return stats[1]["collections"] + stats[2]["collections"]


def _escapes(tracer, trace, fn, snap=None):
    """Trace-time tensors still referenced after the step returned (optimizer state made on a
    first step, a buffer stored on a module): they get concrete values after the call, and
    the trace describes this call only. Those only names of fn hold (a global `loss`) are
    (NamePlace, Value) instead: the names are rebound after every call (sources.py)."""
    tracer.groups = tracer.grad_owner = None  # they hold trace-time tensors
    for rec in tracer.records:
        rec.restore()
    # Trace-time tensors are young: collecting the young generations frees the cycles among
    # them at a fraction of a full collection's cost (50-250 ms in a process that has loaded
    # Numba, paid on every trace and re-verification). Automatic collection is off while a
    # trace runs, so its objects stay young unless something collected during it (user code
    # calling gc.collect(), a compiled function traced inside the step): only then can a
    # cycle of trace-time garbage sit in the old generation, and only then, if something still
    # looks alive, is the full collection run, so such garbage is not taken for state.
    gc.collect(1)
    if (not tracer.once and _promotions() != tracer.promotions + 1
            and any(_alive(ref) for ref in tracer.created)):
        # (Not for a trace of one call: a dead tensor taken for state costs that call an extra
        # output, while the full collection of a process that keeps state (a rebound running
        # mean, `lossi.append(loss.item())`) costs ~0.1 s a call, 25x makemore's eager step.)
        gc.collect()
    kept = [s._loc for s in map(_deref, tracer.scalars) if s is not None]
    if tracer.handed_out is not None:
        trace.per_call = (f"{tracer.handed_out}, which a replayed trace could not redo: it is "
                          "traced on every call")
        trace.per_call_warns = True
    elif kept:
        trace.per_call = (f"a number read from a tensor (.item() at {kept[0]}  {kept[0].text}) "
                          "is kept after the step returns (in a list, a global...): Python that "
                          "does so must run on every call")
    outputs = {id(v) for v in trace.graph.outputs}
    returned = {id(w) for k, w in trace.out_specs if k == "value"}   # (_outputs cut their history)
    escapes, state = [], set()
    for ref in tracer.created:
        if _alive(ref):
            t = ref()
            if t._requires_grad and t._grad_fn is None and id(t._data) not in returned:
                state.add(id(t))    # a leaf the step made that requires grad: never rebound
            t._grad_fn = None
            t._view = None   # its own storage from now on, not a view of a trace-time root
    # Then what is still alive: a tensor that only a view's link to its base or a tape node
    # kept alive (`vec = zeros(n); ...; return vec.view(1, -1)` bound to a global) is gone now
    for ref in tracer.created:
        if not _alive(ref):
            continue
        t = ref()
        escapes.append((t, t._data))
        if id(t._data) not in outputs:
            trace.graph.outputs.append(t._data)
            outputs.add(id(t._data))
    t = None
    if fn is not None and escapes:
        escapes = rebound_names(fn, escapes, state, snap, tracer.touched)
    if any(not isinstance(t, NamePlace) for t, _ in escapes):
        trace.reusable = False
        trace.why_not_reusable = trace.why_not_reusable or (
            "the step created tensors that outlive it (e.g. optimizer state on its first step); "
            "the next call traces again")
    return escapes


def make_ir(fn):
    """`stepjit.make_ir(fn)(*args)`: the traced Graph of one call; no tensor is changed.

    Tensors the step creates and keeps (optimizer state on a first step) cannot be un-created;
    they are given the values the step would give them (by the interpreter), so no trace-time
    tensor is left behind in the caller's objects."""
    @functools.wraps(fn)
    def traced(*args, **kwargs):
        tr = trace(fn, args, kwargs)
        if tr.escapes:
            _make_escapes_concrete(tr, args, kwargs)
        return tr.graph
    return traced


def gather_env(trace, objs):
    """Every input of the whole trace for this call (the interpreter fallback's env)."""
    env = {}
    for spec, obj in zip(trace.slots, objs):
        if spec.value is not None:
            env[spec.value] = obj._data
    for v, arr in trace.constants:
        env[v] = arr
    for p in trace.py_inputs:
        env[p.value] = np.array(p.read(), dtype=p.value.dtype.np)
    return env


def _make_escapes_concrete(tr, args, kwargs):
    flat, _ = flat_args(args, kwargs)
    first = {id(place): t for place, t in tr.named_first}   # (what the names held before)
    objs = []
    for spec in tr.slots:
        kind, where = spec.slot
        objs.append(flat[where] if kind == "arg" else where if kind == "obj"
                    else _first_held(first, where) if kind == "name" else objs[where]._grad)
    env = evaluate(tr.graph, gather_env(tr, objs))
    for t, v in tr.escapes:
        if isinstance(t, NamePlace):
            t.bind(Tensor._make(np.array(env[v])))
        else:
            t._data = np.array(env[v])


def _first_held(first, where):
    """What a "name" slot read when the trace began: the name's tensor, or the item of the
    tuple or list it held (structures.py)."""
    root = getattr(where, "root", None)
    if root is None and id(where) not in first:
        return where.read()     # (an array read through its name: arrays.ArrayPlace)
    return first[id(where)] if root is None else where.at(first[id(root)])


def _check_aliasing(slots, records):
    """Two outside tensors sharing memory, one written by the step: the trace would treat them
    as independent and silently lose the write through the other. Refuse clearly instead."""
    written = [(s, r) for s, r in zip(slots, records) if s.data_write is not None and not s.replaced]
    for s, r in written:
        for other in records:
            if other is r or other.orig_data is r.orig_data:
                continue
            if np.may_share_memory(other.orig_data, r.orig_data):
                raise TraceError(
                    f"the step writes {s.label}, which shares memory with {other.label} (a view made "
                    "outside the step); stepjit cannot compile writes through such aliases. Make the "
                    "view inside the step, or clone() it")
