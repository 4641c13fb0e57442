"""One implementation of a segment's guard check and of a leaf's write-back: generated code.

A segment of the trace tree (tree.py) is checked against a call by one generated function,
and a leaf writes back by one generated function, both written by GuardWriter from the specs
the trace recorded:

  - `check(flat, objs, env)`: the segment's guards in order: whether a `.grad` the step read
    is None, each real tensor's shape, dtype and requires_grad (read only when its array is
    not the one that passed last), the Python values and bindings baked in (values.py,
    bindings.py, symbolic.py, hyperparams.py's guards on optimizer keys), and the type of each
    number read per call. It returns None having bound the segment's tensors (objs) and input
    arrays (env), or the failing guard (a SlotSpec for a tensor, else the PyGuard or PyInput),
    which `failure` turns into the sentence that the retrace reason, STEPJIT_LOGS and
    `stepjit explain` show. A root's argument guard (grad mode, structure, signature) is one
    tuple comparison before it (Segment.enter).
  - `write_back(objs, env)`: the leaf's writes: new data copied in (or already computed in
    the tensor's own buffer) with its version bumped, new storage (`.data =`), `.grad` set,
    replaced or cleared, state the step made (escapes), bools the step set (values.PyWrite),
    numbers the graph computes put where the step left them (tracer/results.py).

The tree walk calls both. The fast call (fastcall.py) is a GuardWriter too: for a root that
is a leaf it writes the same lines inline, on its own locals, a failed guard leaving its
block (`break`) instead of returning the guard; a function call per segment would cost a
tenth of a microsecond of a two-microsecond step.

Compiling costs about a millisecond, which a trace made for one call (per-call retracing)
must not pay: compiled code is cached by its source, which names the trace's objects only
through the function's globals, so a retrace whose leaf reads like an earlier one's reuses its
code with new globals. A segment's check is built at its first tree-walk use; a trace just
made runs along its path without one (`bind`: its guards hold for the call that made it).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..codegen.codewriter import CodeWriter
from ..tensor import Tensor
from ..tracer.aliases import AliasWrite
from ..tracer.bindings import BindingGuard
from ..tracer.values import LengthGuard, ValueGuard
from ..profiler import STATE as PROFILE, timed
from .guards import slot_failure
from .writeback import _copy, _owned

_MISSING = object()
_CODE: OrderedDict = OrderedDict()    # source -> code object, least recently used first
_CODE_LIMIT = 512


class GuardWriter(CodeWriter):
    """Writes guard checks and write-backs. Subclasses say how a failure leaves (`fail`) and
    where a slot's tensor (`obj_of`) and a value's array (`val_of`) are found."""
    packing = False     # the fast call: a new array makes its packed addresses stale

    def __init__(self, glob, reserved=()):
        base = {"_MISSING": _MISSING, "_copy": _copy, "_owned": _owned, "np": np,
                "MAKE_TENSOR": Tensor._make}
        super().__init__(dict(base, **glob), reserved)
        self.tracked = set()     # locals holding an array that is the one its guard last saw
        self.flat = {}           # flat argument index -> local name of the tensor
        self.flat_data = {}      # flat argument index -> local name of its array
        self.objs = {}           # slot position -> local name of the tensor
        self.vals = {}           # Value -> expression of its array
        self.inplace = {}        # written Value -> input Value whose buffer the program wrote
        self.fresh = set()       # locals holding arrays made by this call: kept without a copy

    def fail(self, cond, signal="MISS", why=None, guard=None):
        """`if cond:` leave, saying that `guard` failed."""
        self.emit(f"if {cond}:" + (f"  # {' '.join(why.split())}" if why else ""))
        self.emit(f"    return {self.const(guard, 'failed')}")

    def obj_of(self, pos):
        return self.objs[pos]

    def val_of(self, v):
        return self.vals[v]

    # -- guards -------------------------------------------------------------------------------
    def segment_guards(self, seg, signature):
        """seg's guards; binds self.objs and self.vals. `signature`: the argument signature the
        root's argument guard checked (None below a root)."""
        # `.grad` presence first: it is what tells a first call's trace (no .grad yet) from the
        # later calls' one, so the block that does not apply is left after a read or two.
        # A .grad the step reads as a slot is checked to be there when it is bound (slot()).
        read = {spec.slot[1] for _, spec in seg.slots if spec.slot[0] == "grad"}
        for pos, spec in seg.slots:
            if spec.slot[0] == "arg" and not (spec.grad_is_none is False and pos in read):
                self.grad_presence(self.flat[spec.slot[1]], spec)
        for pos, spec in seg.slots:
            if not _draws(spec):
                self.slot(pos, spec, signature)
        for g in seg.py_guards:
            self.fail(self.guard_fails(g), why=g.label, guard=g)
        for v, p in seg.py_inputs:
            x = self.local(p.key if isinstance(p.key, str) else "hyper")
            if p.key is None or type(p.container) is not dict:    # a closure cell
                self.emit(f"{x} = {self.const(p, 'hyper')}.read()")
            else:
                self.emit(f"{x} = {self.const(p.container, 'group')}.get("
                          f"{self.const(p.key, 'key')}, _MISSING)")
            self.fail(f"type({x}) is not {self.const(p.type, 'type')}", why=p.label, guard=p)
            if self.packing:
                # The fast call stores it into one 0-dim buffer of its own, so a native program
                # is called packed, as the tree walk calls it (programs/cpu.py, NativeCall): a
                # new array each call would send it to `program`, a second compile. (Nothing
                # keeps the buffer: results and write-backs copy what this call did not make.)
                self.vals[v] = self.const(np.empty((), v.dtype.np), f"{x}_buffer")
                self.emit(f"{self.vals[v]}[()] = {x}")
                self.tracked.add(self.vals[v])
                continue
            self.vals[v] = self.local(f"{x}_array")
            self.emit(f"{self.vals[v]} = np.array({x}, dtype={self.const(v.dtype.np, 'dtype')})")
        for v, a in seg.constants:
            self.vals[v] = self.const(a, f"constant_{v.name}")
            self.tracked.add(self.vals[v])

    def draws(self, seg):
        """seg's NumPy draws (tracer/draws.py), in the order the step made them. Emitted after
        every guard (and a fast call's re-verification test): a call that leaves before has
        drawn nothing. A draw's shape and dtype are its arguments', which the trace fixed."""
        for pos, spec in seg.slots:
            if _draws(spec):
                place = spec.slot[1]
                var = self.objs[pos] = self.local(spec.label)
                self.emit(f"{var} = {self.const(place, 'draw')}.read()" +
                          self.comment(place.describe()))
                if spec.value is not None:
                    self.vals[spec.value] = self.local(f"{var}_data")
                    self.emit(f"{self.vals[spec.value]} = {var}._data")

    def guard_fails(self, g):
        """A condition true when the PyGuard g fails. A binding in a dict is tested inline: a
        step through a model has one per link of each path to a parameter (bindings.py)."""
        if type(g) is BindingGuard and isinstance(g.container, dict):
            key = repr(g.key) if type(g.key) is str else self.const(g.key, "key")
            return (f"{self.const(g.container, 'holder')}.get({key}, _MISSING) is not "
                    f"{self.const(g.value, 'bound')}")
        if type(g) is BindingGuard and type(g.container) is list:
            c = self.const(g.container, "holder")
            return f"(len({c}) <= {g.key} or {c}[{g.key}] is not {self.const(g.value, 'bound')})"
        if type(g) is ValueGuard and type(g.container) is dict and g.value == g.value:
            x = self.local("py")
            key = repr(g.key) if type(g.key) is str else self.const(g.key, "key")
            return (f"(type({x} := {self.const(g.container, 'holder')}.get({key}, _MISSING)) is not "
                    f"{self.const(type(g.value), 'type')} or {x} != {self.const(g.value, 'value')})")
        if type(g) is LengthGuard:
            return f"len({self.const(g.container, 'holder')}) != {g.value}"
        return f"{self.const(g, 'guard')}.failed() is not None"

    def tensor(self, var, sig, what, guard=None):
        """Check a tensor's shape, dtype and requires_grad; its array's shape and dtype only when
        it is not the array that passed here last: an array's shape and dtype never change in
        place (stepjit never hands its own arrays out: numpy() and from_numpy() give views), and
        reading and comparing them is most of a tiny step's guard time."""
        shape, dtype, rg = sig
        data = self.local(f"{var}_data")
        self.emit(f"{data} = {var}._data")
        dt = self.const(np.dtype(dtype), str(dtype))
        last = self.local(f"{var}_last").upper()
        self.glob[last] = [None]      # a strong reference: an id could be reused by a new array
        self.emit(f"if {data} is not {last}[0]:  # {what}: {dtype}{list(shape)}")
        self.indent += "    "
        self.fail(f"{data}.shape != {tuple(shape)!r} or ({data}.dtype is not {dt} and "
                  f"{data}.dtype != {dt})", guard=guard)
        self.emit(f"{last}[0] = {data}")
        if self.packing:
            self.emit("GENERATION[0] = object()   # packed addresses are stale")
        self.tracked.add(data)
        self.indent = self.indent[:-4]
        self.fail(f"{var}._requires_grad is not {bool(rg)}", guard=guard)
        return data

    def slot(self, pos, spec, signature):
        kind, where = spec.slot
        sig = (spec.shape, spec.dtype.np, spec.requires_grad)
        if kind == "arg":   # its shape, dtype and requires_grad are the signature's
            var, data = self.flat[where], self.flat_data[where]
            if signature is None or tuple(signature[where]) != sig:
                data = self.tensor(var, sig, spec.label, spec)
        else:
            if kind == "obj":
                var = self.const(where, spec.label)
            elif kind == "name":    # read through the name every call (tracer/sources.py)
                var = self.local(spec.label)
                self.emit(f"{var} = {self.const(where, 'name')}.read()" +
                          self.comment(where.label))
                self.fail(f"{var} is None", why=f"{where.label} holds no tensor", guard=spec)
            else:
                var = self.local(spec.label)
                self.emit(f"{var} = {self.obj_of(where)}._grad")
                self.fail(f"{var} is None", why=f"{spec.label} is None", guard=spec)
            data = self.tensor(var, sig, spec.label, spec)
            self.grad_presence(var, spec)   # (an argument's is checked first, in guards)
        self.objs[pos] = var
        if spec.value is not None:
            self.vals[spec.value] = data

    def grad_presence(self, var, spec):
        if spec.grad_is_none is not None:
            self.fail(f"{var}._grad is {'not ' if spec.grad_is_none else ''}None",
                      why=f"{spec.label}.grad was {'' if spec.grad_is_none else 'not '}None",
                      guard=spec)

    # -- write-back ---------------------------------------------------------------------------
    def ref(self, x, i, hint):
        """The expression for refs[i] = x of the leaf's write plan (a global of this function)."""
        return self.const(x, hint)

    def val_of_ref(self, v, i):
        """The array of the Value refs[i] = v."""
        return self.val_of(v)

    def write_back(self, leaf):
        """leaf's writes, in write_plan's order. Nothing is written before every guard and
        decision of the path has passed."""
        ops, refs = write_plan(leaf)
        for op, a, b in ops:
            if op in ("data", "replace"):
                spec, obj, new = leaf.slots[a], self.obj_of(a), self.val_of_ref(refs[b], b)
                if op == "replace":
                    self.emit(f"{obj}._data = {new}")
                    continue
                if spec.value is None or self.inplace.get(refs[b]) is not spec.value:
                    # (not known to be computed in the tensor's own buffer: compare)
                    self.emit(f"if {new} is not {obj}._data:")
                    self.emit(f"    _copy({obj}._data, {new})")
                self.emit(f"{obj}._version.value += 1" + self.comment(
                    f"@{spec.label} <- %{refs[b].name}"))
            elif op == "grad_none":
                self.emit(f"{self.obj_of(a)}._grad = None")
            elif op == "grad_object":
                self.emit(f"{self.obj_of(a)}._grad = {self.obj_of(b)}")
            elif op == "grad_new":
                new = self.owned(self.val_of_ref(refs[b], b))
                self.emit(f"{self.obj_of(a)}._grad = MAKE_TENSOR({new})" + self.comment(
                    f"@{leaf.slots[a].label}.grad <- %{refs[b].name}"))
            elif op == "escape":
                self.emit(f"{self.ref(refs[a], a, 'escape')}._data = "
                          f"{self.owned(self.val_of_ref(refs[b], b))}")
            elif op == "rebind":    # a fresh tensor every call (tracer/sources.py)
                self.emit(f"{self.ref(refs[a], a, 'name')}.bind(MAKE_TENSOR("
                          f"{self.owned(self.val_of_ref(refs[b], b))}))" +
                          self.comment(f"{refs[a].label} <- %{refs[b].name}"))
            elif op == "py_result":
                arrays = "".join(f"{self.val_of_ref(refs[i], i)}, " for i in range(a + 1, a + 1 + b))
                self.emit(f"{self.ref(refs[a], a, 'py_result')}.put(({arrays}))" + self.comment(
                    f"{refs[a].label} <- " + ", ".join(f"%{v.name}" for v in refs[a].values)))
            elif op == "alias":
                self.emit(f"{self.ref(refs[a], a, 'alias')}.place.bind({self.obj_of(b)})" +
                          self.comment(f"{refs[a].label} <- @{leaf.slots[b].label}"))
            else:
                self.emit(f"{self.ref(refs[a], a, 'py_write')}.apply()")

    def comment(self, text):
        return f"  # {text}"

    def owned(self, name):
        """An array the caller may keep: a copy unless this call made it (writeback._owned)."""
        return name if name in self.fresh else f"_owned({name})"

    def compiled(self, header, what):
        """The function the lines make, its code shared by every writer of the same source."""
        name = header.split("(")[0].split()[-1]
        src = header + "\n" + "\n".join("    " + line for line in self.lines) + "\n"
        code = _CODE.get(src)
        if code is None:
            code = _CODE[src] = compile(src, f"<stepjit {what} {name}>", "exec")
            while len(_CODE) > _CODE_LIMIT:
                _CODE.popitem(last=False)
        else:
            _CODE.move_to_end(src)
        namespace = dict(self.glob)
        exec(code, namespace)
        fn = namespace[name]
        fn.source = src     # what `stepjit dump`-style inspection and tests read
        return fn


class _CheckWriter(GuardWriter):
    """`check(flat, objs, env)` for one segment (the module docstring)."""

    def __init__(self, seg):
        super().__init__({}, reserved=("flat", "objs", "env"))
        self.signature = None if seg.arg_guard is None else seg.arg_guard[2]
        for _, spec in seg.slots:
            if spec.slot[0] == "arg" and spec.slot[1] not in self.flat:
                where = spec.slot[1]
                var = self.flat[where] = self.local(spec.label)
                self.emit(f"{var} = flat[{where}]")
                self.flat_data[where] = self.local(f"{var}_data")
                self.emit(f"{self.flat_data[where]} = {var}._data")
                if self.signature is None:   # (arguments are bound by a root: not reached)
                    self.fail(f"not isinstance({var}, Tensor)", guard=spec)

    def obj_of(self, pos):
        name = self.objs.get(pos)
        if name is None:    # a tensor an earlier segment bound
            name = self.objs[pos] = self.local(f"obj{pos}")
            self.emit(f"{name} = objs[{pos}]")
        return name

    def write(self, seg):
        self.glob["Tensor"] = Tensor
        self.segment_guards(seg, self.signature)
        self.draws(seg)
        mine = [self.objs[pos] for pos, _ in seg.slots]
        if mine:
            self.emit(f"objs.extend(({''.join(o + ', ' for o in mine)}))")
        for v, expr in self.vals.items():
            self.emit(f"env[{self.const(v, 'V_' + v.name)}] = {expr}")
        self.emit("return None")
        return self.compiled(f"def {_name(seg)}_check(flat, objs, env):", "guard check")


class _WriteBackWriter(GuardWriter):
    """`write_back(objs, env, refs)` for every leaf with one write plan (write_plan): it names
    the leaf's Values, tensors and PyWrites only as refs[i], so its code depends on the plan's
    shape alone and a trace made for one call finds it compiled."""

    def __init__(self):
        super().__init__({}, reserved=("objs", "env", "refs"))

    def obj_of(self, pos):
        name = self.objs.get(pos)
        if name is None:
            name = self.objs[pos] = self.local(f"obj{pos}")
            self.emit(f"{name} = objs[{pos}]")
        return name

    def ref(self, x, i, hint):
        return f"refs[{i}]"

    def val_of_ref(self, v, i):
        return f"env[refs[{i}]]"

    def comment(self, text):
        return ""      # labels differ between the leaves that share the code

    def write(self, leaf):
        self.write_back(leaf)
        self.emit("return None")
        return self.compiled("def write_back(objs, env, refs):", "write-back")


def write_plan(leaf):
    """(ops, refs): the leaf's writes in order (data, then `.grad` fields, escapes, bools the
    step set), each op (kind, a, b) naming slot positions and indices into refs (the Values,
    tensors and PyWrites it uses). ops says everything the generated code depends on."""
    ops, refs = [], []
    for pos, spec in enumerate(leaf.slots):
        if spec.data_write is not None:
            ops.append(("replace" if spec.replaced else "data", pos, len(refs)))
            refs.append(spec.data_write)
    for pos, spec in enumerate(leaf.slots):
        gw = spec.grad_write
        if gw is None:
            continue
        if gw[0] == "none":
            ops.append(("grad_none", pos, None))
        elif gw[0] == "object":
            ops.append(("grad_object", pos, gw[1]))
        else:
            ops.append(("grad_new", pos, len(refs)))
            refs.append(gw[1])
    for t, v in leaf.escapes:   # a tensor the step made, or a name it bound to one
        ops.append(("escape" if isinstance(t, Tensor) else "rebind", len(refs), len(refs) + 1))
        refs += [t, v]
    for w in leaf.py_writes:
        values = getattr(w, "values", ())
        if values:     # numbers the graph computes (tracer/results.py)
            ops.append(("py_result", len(refs), len(values)))
            refs += [w, *values]
        elif type(w) is AliasWrite:     # a name bound to the tensor of a slot (tracer/aliases.py)
            ops.append(("alias", len(refs), w.slot))
            refs.append(w)
        else:
            ops.append(("py_write", len(refs), None))
            refs.append(w)
    return tuple(ops), refs


_WRITE_BACKS: dict = {}    # write plan ops -> generated function (few: one per step shape)


def _draws(spec) -> bool:
    """Whether the slot is a NumPy draw's (tracer/draws.py): read after the guards."""
    return spec.slot[0] == "name" and spec.slot[1].draws


def has_draws(seg) -> bool:
    return any(_draws(spec) for _, spec in seg.slots)


def _name(thing):
    graph = getattr(thing, "graph", None) or thing.trace.graph
    return "".join(c if c.isalnum() else "_" for c in graph.name.split(".")[0]) or "step"


def check_function(seg):
    """The segment's guard check (built once, at its first use)."""
    return _CheckWriter(seg).write(seg)


def write_back(trace, objs, env):
    """Write back what the step mutated (a leaf's trace, or a whole trace run by the
    interpreter), by the trace's generated write-back."""
    fn, refs = write_back_function(trace)
    if PROFILE.active is not None:
        return timed("write-back", "compiled", fn, objs, env, refs)
    return fn(objs, env, refs)


def write_back_function(leaf):
    """(function, refs) writing back the leaf trace's writes; kept on the trace (renamed_trace
    makes a new one)."""
    made = leaf.__dict__.get("_write_back")
    if made is None:
        ops, refs = write_plan(leaf)
        fn = _WRITE_BACKS.get(ops)
        if fn is None:
            if len(_WRITE_BACKS) > _CODE_LIMIT:
                _WRITE_BACKS.clear()
            fn = _WRITE_BACKS[ops] = _WriteBackWriter().write(leaf)
        made = leaf.__dict__["_write_back"] = (fn, refs)
    return made


def resolve(slot, flat, objs):
    """The tensor a slot names for this call (the generated guards read the same, inline)."""
    kind, where = slot
    if kind == "arg":
        return flat[where]
    if kind == "obj":
        return where
    if kind == "name":      # a global or closure variable, read on every call (sources.py)
        return where.read()
    return objs[where]._grad


def bind(seg, flat, objs, env):
    """A trace just made, run along its path: its tensors and inputs for the call that made it,
    whose guards hold by construction (no check compiled for a segment that may never be
    reused)."""
    for _, spec in seg.slots:
        obj = resolve(spec.slot, flat, objs)
        objs.append(obj)
        if spec.value is not None:
            env[spec.value] = obj._data
    for v, p in seg.py_inputs:
        env[v] = np.array(p.read(), dtype=v.dtype.np)
    for v, a in seg.constants:
        env[v] = a


def failure(seg, guard, flat, objs) -> str:
    """The sentence for a guard seg's check returned (cold: the call is leaving the tree)."""
    if not hasattr(guard, "slot"):    # a PyGuard or a PyInput
        return guard.failed() or f"{guard.label} changed"
    found, obj = failing_tensor(seg, guard, flat, objs)
    if found:
        return slot_failure(guard, obj) or f"{guard.label} changed"
    return f"{guard.label} changed"


def failing_tensor(seg, spec, flat, objs):
    """(True, the tensor) that the slot spec of seg names for this call; (False, None) when
    seg has no such slot."""
    objs = list(objs)
    for _, s in seg.slots:
        kind, where = s.slot
        obj = None if (kind == "grad" and objs[where] is None) or _draws(s) \
            else resolve(s.slot, flat, objs)     # (a draw is made after the guards, if at all)
        if s is spec:
            return True, obj
        objs.append(obj)
    return False, None
