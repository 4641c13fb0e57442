"""Fast calls: a generated Python function per cached trace that takes no decision.

The general call (compiled.py) flattens the arguments into a pytree, builds a key
and walks the trace tree, each segment looping over its guard specs
(tree.Segment.enter); the leaf then writes back and builds the result through
loops over specs (writeback.py). For a tiny step that Python is the whole cost. So
every root of the tree that is also a leaf gets a function, generated as source
for exactly its guards and writes, which a call tries before the tree walk:

  - the guards the general path checks, inline: grad mode, the argument structure
    and its Python values, each tensor's shape, dtype and requires_grad, whether a
    `.grad` the step read is None, the lifted tensors, the Python values baked in
    and the type of the hyperparameters read each call;
  - the segment's program, called on local arrays (a native program directly, with
    no env dict);
  - this trace's write-back and result, unrolled.

It returns MISS when a guard the general path checks fails (the root does not
apply; the next root's function is tried), and UNSURE when it cannot decide as
the general path would (a Python value or container of another type) or when the
leaf is due for re-verification: the tree walk then takes the call, so the tree's
semantics (re-verification at reuse 1, 8, 64, ..., the recompile limit, retracing)
live in one place. `CompiledFunction.fast_sources()` returns the generated text.

The first of these functions is also compiled a second time as the compiled function's own
`__call__` (`<name>_call(self, *args, **kwargs)`, CompiledFunction.install): the same lines,
each `return <signal>` turned into `return self._after_first(<signal>, args, kwargs)`. A
call then runs one Python frame instead of two (~0.2 us of the ~2 us W4 step).
"""
from __future__ import annotations

import sys

import numpy as np

from ..autograd.grad_mode import STATE as GRAD
from ..dispatch import MODE
from ..ir.graph import Value
from ..tensor import Tensor, Version
from ..ir.impl import raise_check
from .aot import attach
from ..programs.cpu import pack_addresses
from ..tracer.arrays import input_tensor
from ..tracer.symbolic import ArgNumber
from .guardcode import _MISSING, GuardWriter
from .writeback import _host


class Signal:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


MISS = Signal("MISS")       # a guard failed: this root does not apply
UNSURE = Signal("UNSURE")   # let the general path decide
_PLAIN = (int, float, bool, complex, str, bytes)   # types whose == the general path relies on


def leaf_mismatch(x, traced):
    """x is a Python argument that is not `traced` by identity or same-type equality: the general
    path compares ("leaf", x) == ("leaf", traced), which also equates 1, 1.0 and True."""
    return MISS if type(x) is type(traced) else UNSURE


def args_of(more, *given):
    """The positional arguments of a call to a compiled function's entry, which takes them as
    parameters (absent ones are _MISSING): only on the way to the rest of the call path."""
    return tuple(a for a in given if a is not _MISSING) + more


def fresh_tensor_fields():
    """(field, expression) for each field of a new tensor, read off Tensor._make (the one list
    of them and their start values), or None if one holds a value these lines cannot write:
    a fast call builds its results with these stores inline (a call to _make costs ~40 ns of
    a 2 us step)."""
    made = Tensor._make(None)
    if vars(made):      # a field outside the slots
        return None
    fields = []
    for name in Tensor.__slots__:
        if name in ("__weakref__", "__dict__"):
            continue
        value = getattr(made, name)
        if name == "_data":
            continue
        if type(value) is Version and value.value == 0 and not vars(value):
            fields.append((name, "VERSION()"))
        elif value is None or type(value) in (bool, int):
            fields.append((name, repr(value)))
        else:
            return None
    return fields


def packed_call(pk, generation, call, arrays, written, given=()):
    """A native call whose packed addresses are stale: pack them again and call the packed
    entry, or call the program on the arrays when they cannot be packed. `given`: the arrays
    this call gives the program for its results (NativeCall.given), passed as they are."""
    addresses = pack_addresses(arrays, written)
    if addresses is None:   # until the arrays change, call the program on these ones
        fn = call.fn
        pk[1], pk[2] = None, lambda _, *given_dims: fn(*arrays, *given_dims)
    else:
        pk[1], pk[2] = addresses, call.packed
    out = pk[2](pk[1], *given, call.dims)
    if pk[2] is call.packed:
        pk[2] = call.packed.fastest()   # what runs the kernel once it has run
    pk[0] = generation[0]
    return out


def _as_bits(flag):
    """A check's float flag (a memoryview of one item, cpu.py) read as the signed int of its bits:
    the same sign, so `> 0` means the same for every float but a NaN (a flag is 0, 1 or -inf),
    and comparing a small int costs ~7 ns where making a float and comparing it with 0 costs ~45."""
    if isinstance(flag, memoryview) and flag.format in ("f", "d") and flag.c_contiguous:
        return flag.cast("B").cast("i" if flag.format == "f" else "q")
    return flag


def hottest_first(segs):
    """segs (roots sharing an argument guard) by uses, most first, when no call can pass two
    of them (each pair differs in whether some argument's .grad is None): then the order the
    tree walk tries them in cannot matter, and a training step's fast call does not first try,
    on every call, the trace of its first call (no .grad yet)."""
    presence = [{spec.slot[1]: spec.grad_is_none for _, spec in seg.slots
                 if spec.slot[0] == "arg" and spec.grad_is_none is not None} for seg in segs]
    for i, a in enumerate(presence):
        for b in presence[i + 1:]:
            if not any(k in b and b[k] != g for k, g in a.items()):
                return segs
    return sorted(segs, key=lambda seg: -seg.uses)


def build(segs, name, backend, stats):
    """(function, source) for consecutive roots that are leaves and share their argument guard:
    the argument checks once, then one block per root, tried in the tree's order (a block whose
    guards fail breaks out to the next)."""
    w = _Writer(segs[0].arg_guard, backend, stats)
    w.labels = {s.slot[1]: s.label for _, s in segs[0].slots if s.slot[0] == "arg"}
    w.arguments(set().union(*[_written_arguments(seg.leaf.slots) for seg in segs]))
    for seg in segs:
        w.block(seg)
    w.give("MISS")
    fn, src = w.function(f"def {name}(args, kwargs):", "", "fast call")
    entry, _ = w.function(w.entry_header(f"{name}_call"), "", "fast call", w.entry_lines())
    return fn, entry, src


def _written_arguments(slots):
    """Flat positions of the arguments whose data, .grad or .grad's data the step writes."""
    out = set()
    for spec in slots:
        owner = spec
        while owner.slot[0] == "grad":    # ("grad", k): the .grad of slot k
            owner = slots[owner.slot[1]]
        if owner.slot[0] == "arg" and (spec.data_write is not None or spec.grad_write is not None):
            out.add(owner.slot[1])
    return out


def _tensors_in(d) -> int:
    """How many tensors treedef d holds (its share of the flat arguments)."""
    kind = d[0]
    if kind == "tensor" or kind == "array":
        return 1
    if kind == "leaf":
        return 0
    return sum(_tensors_in(c) for c in (d[1] if kind in ("tuple", "list") else d[2]))


class _Writer(GuardWriter):
    """The guards and write-back are GuardWriter's (guardcode.py), the lines a segment's check
    and a leaf's write-back are made of, here on the fast call's locals."""
    packing = True

    def __init__(self, arg_guard, backend, stats):
        # MAKE_TENSOR: Tensor._make bound once (looking it up binds a classmethod every call)
        super().__init__({"GRAD": GRAD, "TRACING": MODE, "MISS": MISS, "UNSURE": UNSURE, "Tensor": Tensor,
                          "leaf_mismatch": leaf_mismatch, "_host": _host, "ONCE": (None,),
                          "GENERATION": [object()], "packed_call": packed_call,
                          "attach": attach, "ARGS_OF": args_of, "NEW": object.__new__,
                          "VERSION": Version, "ARRAY_INPUT": input_tensor},
                         reserved=("self", "args", "kwargs", "more", "env", "results"))
        self.arg_guard, self.backend, self.stats = arg_guard, backend, stats
        self.on_miss = "return"   # in a root's block: "break" (try the next root)
        self.flat = []           # flat argument index -> local name
        self.arrays = []         # the locals holding ndarray arguments
        self.labels = {}         # flat argument index -> the label the trace gave it
        self.signals = []        # indices of the lines `return <signal>` (entry_lines)
        self.positional = None   # (locals of the positional arguments, their unpacking's lines)

    def give(self, signal):
        """`return <signal>`: the call is not this function's to finish."""
        self.signals.append(len(self.lines))
        self.emit(f"return {signal}")

    def entry_header(self, name):
        """`def <name>(self, X=_MISSING, y=_MISSING, /, *more, **kwargs):`: the compiled
        function's __call__ takes the positional arguments the trace saw as positional-only
        parameters (a keyword of the same name goes to kwargs), so a call builds no tuple and
        unpacks nothing."""
        params = "".join(f"{p}=_MISSING, " for p in self.positional[0])
        return f"def {name}(self, {params}/, *more, **kwargs):"

    def entry_lines(self):
        """The lines as the compiled function's __call__ (entry_header) runs them: the count of
        positional arguments checked on its parameters instead of unpacked, and a signal sent
        to the rest of the call path (CompiledFunction._after_first) with the arguments as
        CompiledFunction.__call__ sends them."""
        parts, unpacking = self.positional
        args = f"ARGS_OF(more{''.join(', ' + p for p in parts)})"
        short = f"more or {parts[-1]} is _MISSING" if parts else "more"
        lines = [f"if {short}:", f"    return self._after_first(MISS, {args}, kwargs)"]
        signals = set(self.signals)
        for i, line in enumerate(self.lines):
            if i in unpacking:
                continue
            if i in signals:
                indent, signal = line.split("return ", 1)
                line = f"{indent}return self._after_first({signal}, {args}, kwargs)"
            lines.append(line)
        return lines

    def fail(self, cond, signal="MISS", why=None, guard=None):
        self.emit(f"if {cond}:" + (f"  # {' '.join(why.split())}" if why else ""))
        self.indent += "    "
        if signal == "MISS" and self.on_miss == "break":
            self.emit("break")
        else:
            self.give(signal)
        self.indent = self.indent[:-4]

    # -- guards ---------------------------------------------------------------------------
    def arguments(self, written):
        """Grad mode, the argument structure, which arguments are the same tensor and each
        tensor argument's signature. `written`: flat positions of arguments a step writes."""
        grad, treedef, signature, aliases = self.arg_guard
        self.fail("TRACING.tracer is not None", why="called while another compiled step is traced")
        self.fail(f"GRAD.enabled is not {grad}", why=f"traced with grad {'on' if grad else 'off'}")
        (_, [args_def, kwargs_def]) = treedef
        self.structure("args", args_def, known_type=True)
        self.structure("kwargs", kwargs_def, known_type=True)
        self.aliasing(aliases or range(len(self.flat)), written)
        self.flat_data = [self.tensor(var, sig, f"argument {self.labels.get(i, i)}")
                          for i, (var, sig) in enumerate(zip(self.flat, signature))]

    def aliasing(self, first, written):
        """A tensor passed twice was bound once: it must still be one tensor. Tensors passed
        apart must still differ where that changes the result: the tree walk compares the whole
        pattern, but aliasing among arguments the step only reads gives the same values."""
        flat = self.flat
        for j, i in enumerate(first):
            if i != j:
                self.fail(f"{flat[j]} is not {flat[i]}", why="the same tensor, passed twice")
        apart = [j for j, i in enumerate(first) if i == j]
        pairs = [(i, j) for i in apart for j in apart if i < j and (i in written or j in written)]
        if pairs:
            self.fail(" or ".join(f"{flat[i]} is {flat[j]}" for i, j in pairs),
                      why="a tensor the step writes is passed twice")

    def block(self, seg):
        """One root's own guards, run, write-back and result, in a block a failed guard leaves."""
        self.seg, self.leaf, self.pooled = seg, seg.leaf, None
        self.objs, self.vals, self.inplace, self.fresh = {}, {}, {}, set()
        self.emit(f"for _ in ONCE:  # {seg.trace.graph.name}: a trace of {len(seg.nodes)} nodes")
        self.indent, self.on_miss = "    ", "break"
        self.guards()
        self.run()
        self.write_back(self.leaf)
        self.result()
        self.indent, self.on_miss = "", "return"

    def guards(self):
        seg = self.seg
        self.segment_guards(seg, self.arg_guard[2])
        s = self.const(seg, "seg")
        uses = self.local("uses")
        self.emit(f"{uses} = {s}.uses + 1")
        self.emit(f"if {uses} == {s}.verify_at:  # due for re-verification: the tree walk's job")
        self.indent += "    "
        self.give("UNSURE")
        self.indent = self.indent[:-4]
        self.emit(f"{s}.uses = {uses}")
        self.draws(seg)

    def structure(self, expr, d, known_type=False, bound=False):
        """Check that expr has the shape of treedef d; bind the tensors it holds, in flat order.
        bound: expr is a local name the caller has already bound."""
        kind = d[0]
        if kind == "tensor":
            var = expr if bound else self.local(self.labels.get(len(self.flat), f"arg{len(self.flat)}"))
            if not bound:
                self.emit(f"{var} = {expr}")
            # (type() first: an exact Tensor passes in ~15 ns, where isinstance costs ~35)
            self.fail(f"type({var}) is not Tensor and not isinstance({var}, Tensor)")
            self.flat.append(var)
        elif kind == "array":   # an ndarray taken as an input: a tensor over its memory
            raw = expr if bound else self.local("array")
            if not bound:
                self.emit(f"{raw} = {expr}")
            for other in self.arrays:    # (one array passed twice: flat_args' one tensor)
                self.fail(f"{raw} is {other}", "UNSURE", why="an array passed twice")
            self.arrays.append(raw)
            var = self.local(self.labels.get(len(self.flat), f"arg{len(self.flat)}"))
            self.emit(f"{var} = ARRAY_INPUT({raw})")
            self.fail(f"{var} is None", "UNSURE", why="not an array of a dtype taken as input")
            self.flat.append(var)
        elif kind == "leaf":
            self.leaf_value(expr, d[1], bound)
        elif kind in ("tuple", "list"):
            if not known_type:
                self.fail(f"type({expr}) is not {kind}", "UNSURE")
            start = len(self.lines)
            self.fail(f"len({expr}) != {len(d[1])}")
            parts, k = [], len(self.flat)
            for c in d[1]:     # names for one unpacking, not a subscript per element
                parts.append(self.local(self.labels.get(k, f"arg{k}") if c[0] == "tensor" else
                                        "py" if c[0] == "leaf" else "part"))
                k += _tensors_in(c)
            if parts:
                self.emit(f"{''.join(p + ', ' for p in parts)}= {expr}")
            if expr == "args":
                self.positional = (parts, range(start, len(self.lines)))
            for p, c in zip(parts, d[1]):
                self.structure(p, c, bound=True)
        elif kind == "dict":
            if not known_type:
                self.fail(f"type({expr}) is not dict", "UNSURE")
            keys = d[1]
            if not keys:
                self.fail(f"{expr}")
            else:
                self.fail(f"len({expr}) != {len(keys)} or list({expr}) != {self.const(keys, 'keys')}")
            for k, c in zip(keys, d[2]):
                self.structure(f"{expr}[{self.const(k, 'key')}]", c)
        else:   # namedtuple
            self.fail(f"type({expr}) is not {self.const(d[1], d[1].__name__)}")
            for i, c in enumerate(d[2]):
                self.structure(f"{expr}[{i}]", c)

    def leaf_value(self, expr, value, bound=False):
        x = expr if bound else self.local("py")
        if not bound:
            self.emit(f"{x} = {expr}")
        if value is None:
            self.fail(f"{x} is not None", "UNSURE")
            return
        if type(value) is ArgNumber:   # a number argument read per call: the guards read it there
            self.fail(f"type({x}) is not {value.kind.__name__}", "UNSURE")
            self.emit(f"{self.const(value.container, 'int_arguments')}[{value.key!r}] = {x}")
            return
        c = self.const(value, "traced")
        if type(value) not in _PLAIN:
            self.fail(f"{x} is not {c}", "UNSURE", why="another object")
            return
        self.fail(f"{x} is not {c} and not (type({x}) is {type(value).__name__} and {x} == {c})",
                  f"leaf_mismatch({x}, {c})", why=f"traced with {value!r}")

    # -- running the program ----------------------------------------------------------------
    def needed(self):
        return list(dict.fromkeys(self.uses()))

    def uses(self):
        """The Values the write-back and results read, once per use."""
        leaf = self.leaf
        out = [s.data_write for s in leaf.slots if s.data_write is not None]
        out += [s.grad_write[1] for s in leaf.slots if s.grad_write and s.grad_write[0] == "new"]
        out += [w for k, w in leaf.out_specs if k in ("value", "item") and isinstance(w, Value)]
        out += [v for _, v in leaf.escapes]
        out += [v for w in leaf.py_writes for v in getattr(w, "values", ())]
        if leaf.aot is not None:   # the residuals the backward node keeps (runtime/aot.py)
            out += leaf.aot.kept
        return out

    def run(self):
        seg, needed = self.seg, self.needed()
        if not seg.nodes:
            return
        program = seg.program
        if program is not None and self.direct(program, needed):
            return
        env = ", ".join(f"{self.const(v, 'V_' + v.name)}: {a}" for v, a in self.vals.items())
        self.emit(f"env = {{{env}}}")
        if program is None:   # not built yet: the segment builds it on first use
            self.emit(f"env = {self.const(seg, 'seg')}.run(env, {self.const(self.backend, 'backend')}, "
                      f"{self.const(self.stats, 'stats')})")
        else:
            self.emit(f"env = {self.const(program, 'program')}.run(env)")
        for v in needed:
            name = self.local(f"v{v.name}")
            self.emit(f"{name} = env[{self.const(v, 'V_' + v.name)}]")
            self.vals[v] = name

    def direct(self, program, needed):
        """Call a native program on local arrays; False when the program is not one (or does not
        return something the write-back needs: the general env path then serves)."""
        plan = program.direct_plan()
        if plan is None:
            return False
        call, rename = plan
        inplace = {rename(v): rename(t) for v, t in call.inplace.items()}
        if any(rename(v) not in self.vals for v in call.ins) or any(
                t not in self.vals for t in inplace.values()):
            return False
        held = [(v, self.const(b, f"held_{v.name}")) for v, b in call.held]
        work = [self.const(b, "work") for b in call.workspace]    # the program's intermediates
        self.tracked.update([b for _, b in held] + work)
        available = set(self.vals) | {rename(v) for v in call.outs} | set(inplace)
        available |= {rename(v) for v, _ in held}
        if any(v not in available for v in needed):
            return False
        produced = dict(self.vals)
        outs = {v: self.local(f"v{(rename(v) or v).name}") for v in call.outs}
        produced.update((rename(v), o) for v, o in outs.items())
        for v, target in inplace.items():
            produced[v] = produced[target]
        pooled = self.poolable(call, rename, held)
        pool = self.pool_choice(call, pooled) if pooled is not None else None
        arrays = [self.vals[rename(v)] for v in call.ins] + [
            f"{pool}[1]" if v is pooled else b for v, b in held] + work
        dims = self.const(call.dims, "dims")
        results = "".join(o + ", " for o in outs.values()) + "= " if outs else ""
        given = ()
        if call.given:      # the results' arrays, new each call: the program returns nothing
            given = tuple(outs.values())
            for o, (shape, dtype) in zip(given, call.given):
                self.emit(f"{o} = {self.const(np.empty, 'empty')}({shape!r}, "
                          f"{self.const(dtype, 'dtype')})")
            results = ""
        self._emit_native_call(call, arrays, results, dims, pool, given)
        for node, flag in call.checks:   # the program stopped early: raise the check's error
            self.const(flag, "flag")
            self.emit(f"if {self.const(_as_bits(flag), 'flag_bits')}[0] > 0:")
            self.emit(f"    {self.const(raise_check, 'raise_check')}({self.const(node, 'check')}, "
                      f"{self.const(flag, 'flag')})")
        for v, o in outs.items():
            if v in call.fresh:
                self.fresh.add(o)
        for v, b in held:      # a 0-dim result the program stored into a buffer it was given
            o = produced[rename(v)] = self.local(f"v{(rename(v) or v).name}")
            if v is pooled:    # the pool's array: the result tensor's own (result())
                self.pooled = (rename(v), o, pool)
                self.emit(f"{o} = {pool}[1]")
                continue
            self.emit(f"{o} = {b}.copy()")
            self.fresh.add(o)
        self.vals, self.inplace = produced, inplace
        return True

    # -- a pooled result --------------------------------------------------------------------
    def poolable(self, call, rename, held):
        """The held 0-dim Value (the program's, not renamed) whose only use is to be returned as a
        plain tensor (a loss), or None: its result can come from a pool (pool_choice)."""
        if self.leaf.aot is not None or fresh_tensor_fields() is None:
            return None
        uses = self.uses()
        returned = [w for k, w in self.leaf.out_specs if k == "value"]
        for v, _ in held:
            if uses.count(rename(v)) == 1 and returned.count(rename(v)) == 1:
                return v
        return None

    def pool_choice(self, call, v):
        """Lines choosing where the program stores the returned 0-dim value v: the array of one of
        two pooled result tensors (each [tensor, array, version, pack, the other pool]) that
        nothing outside its pool refers to, else the program's own held buffer, copied (POOL_COPY).

        A loss returned by a call is usually dropped by the next-but-one (`loss = step(...)` still
        holds the previous one during a call): a tensor, its array and its version referred to by
        their pool alone (sys.getrefcount: the pool, the local and the call's argument), with no
        weak reference and no attribute of its own, is unreachable from the caller's code, so
        giving it out again, its fields reset, is observably a new tensor. It spares allocating
        and freeing a tensor, its version and its array, and the copy (~0.35 us of a ~1.7 us
        step). The two pools alternate: the one not used last is tried first."""
        buffer = dict(call.held)[v]
        copy = [None, buffer, None, [None, None, None], None]
        pools = []
        for _ in range(2):
            array = np.empty((), buffer.dtype)
            t = Tensor._make(array)
            pools.append([t, array, t._version, [None, None, None], None])
        pools[0][4], pools[1][4], copy[4] = pools[1], pools[0], pools[0]
        last = self.const([copy], "pool_last")
        pool, res = self.local("pool"), self.local("res")
        refs = self.const(sys.getrefcount, "refs")
        busy = (f"{refs}({res}) != 3 or type({res}) is not Tensor or {res}._data is not {pool}[1] "
                f"or {refs}({pool}[1]) != 3 or {res}._version is not {pool}[2] "
                f"or {refs}({pool}[2]) != 3 or {res}.__weakref__ is not None or {res}.__dict__")
        self.emit(f"{pool} = {last}[0][4]   # the result pool not used last call")
        self.emit(f"{res} = {pool}[0]")
        self.emit(f"if {busy}:   # the caller may still reach it")
        self.emit(f"    {pool} = {pool}[4]")
        self.emit(f"    {res} = {pool}[0]")
        self.emit(f"    if {busy}:")
        self.emit(f"        {pool}, {res} = {self.const(copy, 'pool_copy')}, None")
        self.emit(f"{last}[0] = {pool}")
        self.pool_res = res
        return pool

    def pooled_tensor(self):
        """The returned tensor of the pooled value (pool_choice): the pool's tensor with every
        field reset to a new tensor's, or a new tensor holding a copy of the held buffer."""
        fields = fresh_tensor_fields()
        _, array, _ = self.pooled
        res = self.pool_res
        self.emit(f"if {res} is None:")
        self.indent += "    "
        t = self.new_tensor(f"{array}.copy()")
        self.indent = self.indent[:-4]
        self.emit("else:")
        self.emit(f"    {t} = {res}")
        for name, expr in fields:
            if expr == "VERSION()":
                self.emit(f"    {t}.{name}.value = 0")
            else:
                self.emit(f"    {t}.{name} = {expr}")
        return t

    def _emit_native_call(self, call, arrays, results, dims, pool=None, given=()):
        if call.packed is not None and all(a in self.tracked or a == f"{pool}[1]" for a in arrays):
            # The inputs' addresses, packed while their arrays stay the ones the guards last
            # saw (codegen/pointers.py): one argument for Numba to unbox, not one per array.
            # A result pool (pool_choice) has a pack of its own: its array is another address.
            if pool is None:
                pk = self.const([None, None, None], "pack")   # [generation, addresses, entry]
            else:
                pk = self.local("pack")
                self.emit(f"{pk} = {pool}[3]")
            written = tuple(i for i, v in enumerate(call.ins) if v in call.inplace.values())
            written += tuple(range(len(call.ins), len(arrays)))     # held, workspace
            passed = "".join(o + ", " for o in given)
            self.emit(f"if {pk}[0] is GENERATION[0]:")
            self.emit(f"    {results}{pk}[2]({pk}[1], {passed}{dims})")
            self.emit("else:")
            self.emit(f"    {results}packed_call({pk}, GENERATION, {self.const(call, 'native')}, "
                      f"({''.join(a + ', ' for a in arrays)}), {written!r}, ({passed}))")
        else:
            fn = self.const(call.fn.fastest(), "native_program")
            self.emit(f"{results}{fn}({', '.join(arrays + list(given) + [dims])})")

    # -- write-back and result (writeback.write_back and writeback.results, unrolled) -------------
    def result(self):
        leaves = []
        for kind, what in self.leaf.out_specs:
            if kind == "object":
                leaves.append(self.objs[what])
            elif kind == "item":
                leaves.append(f"_host({self.vals[what]}).item()")
            elif isinstance(what, Value) and self.pooled and what is self.pooled[0]:
                leaves.append(self.pooled_tensor())
            elif isinstance(what, Value):
                leaves.append(self.new_tensor(self.owned(self.vals[what])))
            else:
                leaves.append(f"MAKE_TENSOR({self.const(what, 'result')})")
        spec = self.leaf.aot
        if spec is not None:   # writeback.results' attach, on this call's locals
            self.emit(f"results = [{', '.join(leaves)}]")
            objs = ", ".join(self.objs.get(pos, "None") for pos in range(len(self.leaf.slots)))
            kept = "".join(self.owned(self.vals[v]) + ", " for v in spec.kept)
            self.emit(f"attach({self.const(spec, 'aot')}, [{objs}], ({kept}), results)")
            leaves = [f"results[{i}]" for i in range(len(leaves))]
        it = iter(leaves)
        self.emit(f"return {self.build(self.leaf.out_treedef, it)}")

    def new_tensor(self, data):
        """A local bound to a new tensor holding data: Tensor._make's stores, inline
        (fresh_tensor_fields), or a call to it."""
        fields = fresh_tensor_fields()
        if fields is None:
            return f"MAKE_TENSOR({data})"
        t = self.local("result")
        self.emit(f"{t} = NEW(Tensor)")
        self.emit(f"{t}._data = {data}")
        for name, expr in fields:
            self.emit(f"{t}.{name} = {expr}")
        return t

    def build(self, d, it):
        kind = d[0]
        if kind == "tensor":
            return next(it)
        if kind == "leaf":
            return self.const(d[1], "returned")
        if kind == "namedtuple":
            return f"{self.const(d[1], d[1].__name__)}({', '.join(self.build(c, it) for c in d[2])})"
        if kind == "dict":
            items = [f"{self.const(k, 'key')}: {self.build(c, it)}" for k, c in zip(d[1], d[2])]
            return "{" + ", ".join(items) + "}"
        items = [self.build(c, it) for c in d[1]]
        if kind == "list":
            return "[" + ", ".join(items) + "]"
        return "(" + "".join(i + ", " for i in items) + ")"
