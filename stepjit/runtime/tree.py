"""Trace trees: traces cut into segments at their data-dependent decisions, sharing prefixes.

A trace with decisions d1..dk is cut into k+1 segments: segment i holds the graph
nodes recorded between decision i and decision i+1, the real tensors first
touched there (their guards, and where to find them: slots), the Python numbers
read there (lifted hyperparameters and guarded values) and the constants made
there. Segment i ends with decision i+1; the last segment (the leaf) ends with
the trace's results and write-backs.

Tracing is deterministic: two traces of one function that took the same
decisions on the same guarded inputs record the same segments. So the runtime
keeps one tree per function. A call checks a root's guards, runs its segment
(its own Graph and backend program), computes the decision's key from the values
it produced, follows the child with that key, checks the child's guards, and so
on down to a leaf, which writes back and builds the result. A key with no child
means Python would now take another path: the function is traced again and the
new trace is grafted onto the tree; its segments up to the new decision are
matched against the existing ones and share their values and programs.

Grafting is also how traces are re-verified: when a trace agrees with the tree
on every guard and every decision but records different nodes or constants, the
Python function read state that the guards do not see (a counter, a learning
rate kept in a Python variable): `graft` reports it as stale, naming the first
node that differs and its source line.

Segment graphs are plain Graphs; programs are looked up by structural hash
(stepjit/ir/hashing.py) in a cache shared by all compiled functions, so equal
segments of different traces, functions or calls share one program.
"""
from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.hashing import canonical_values, structural_key
from .. import programs
from ..profiler import STATE as PROFILE, span, timed
from ..programs.program import Program
from ..tensor import Tensor
from . import guardcode
from .guards import arg_guard_failure

# -- programs, shared by structural hash ----------------------------------------------------
# (backend, hash) -> (graph, program), least recently used first. Bounded: each program of a
# new shape holds its record, kernels' text and workspace (~100-200 KiB for a small step, its
# intermediates for a large one), and a function run over many batch sizes made one per size. A program dropped here lives on in
# the segments that hold it; a graph that needs it again builds it again (its kernels are
# compiled already). PROGRAM_STATS counts what left.
_PROGRAMS: OrderedDict = OrderedDict()
_CACHE_LIMIT = 64
PROGRAM_STATS = {"evicted": 0}


def settling() -> bool:
    """Whether a cached program still changes how it runs (Program.settling): benchmarks time
    steady state until none does."""
    return any(p.unwrapped().settling for _, p in _PROGRAMS.values())


class _Adapted(Program):
    """A program built for another, structurally equal graph, run on this graph's values."""
    __slots__ = ("program", "ins", "outs")

    def __init__(self, program, src, graph):
        self.program = program
        n_in = len(graph.inputs) + len(graph.lifted)
        self.ins = list(zip(canonical_values(src)[:n_in], canonical_values(graph)[:n_in]))
        outs = list(zip(src.outputs, graph.outputs))
        outs += [(a, b) for (_, a), (_, b) in zip(src.writes, graph.writes)]
        self.outs = [(a, b) for a, b in outs if isinstance(b, Value)]

    def promote(self):
        return self.program.promote()

    def unwrapped(self):
        return self.program.unwrapped()

    @property
    def record(self):
        return self.program.record

    def direct_plan(self):
        """The shared program's native call, its values renamed to this graph's."""
        plan = self.program.direct_plan()
        if plan is None:
            return None
        call, rename = plan
        ours = dict(self.ins)
        ours.update(self.outs)
        return call, lambda v: ours.get(rename(v))

    def run(self, env):
        sub = {a: env[b] for a, b in self.ins}
        sub = self.program.run(sub)
        for a, b in self.outs:
            env[b] = sub[a]
        return env


def get_program(graph, backend, stats):
    """A program for graph: from the shared cache by structural hash, else built (and counted)."""
    if backend.startswith("check:"):
        # Check mode (check.py): one program per graph, never shared, so that a CheckError
        # names this graph's values and lines. Its kernels are still shared by source hash.
        start = time.perf_counter()
        program = programs.build(graph, backend, keep=())
        stats["compile_seconds"] += time.perf_counter() - start
        stats["programs_built"] += 1
        return program
    # The structural key itself, not a digest of its repr: exact, and what a per-call retrace
    # pays to find its program is one tuple built and hashed.
    key = (backend, structural_key(graph))
    hit = _PROGRAMS.get(key)
    if hit is None:
        # (walked once: 0.1-0.3 s for an unrolled LSTM of 7000 nodes)
        any_shape = (backend, "any-shape", structural_key(graph, shapes=False))
        generic = _PROGRAMS.get(any_shape)
        if generic is not None:
            hit = _PROGRAMS[key] = generic
    else:
        _PROGRAMS.move_to_end(key)
    if hit is None:
        start = time.perf_counter()
        # keep=(): a segment graph lists every value the runtime reads after it (decisions,
        # values later segments use) among its outputs, and only the leaf has writes.
        program = programs.build(graph, backend, keep=())
        stats["compile_seconds"] += time.perf_counter() - start
        stats["programs_built"] += 1
        hit = _PROGRAMS[key] = (graph, program)
        if program.shape_generic:
            _PROGRAMS[any_shape] = hit
        while len(_PROGRAMS) > _CACHE_LIMIT:
            _PROGRAMS.popitem(last=False)
            PROGRAM_STATS["evicted"] += 1
        return program
    stats["programs_reused"] += 1
    src, program = hit
    return program if src is graph else _Adapted(program, src, graph)


# -- a trace cut into pieces ------------------------------------------------------------------
@dataclasses.dataclass
class Piece:
    """One segment of one trace, in that trace's own values."""
    index: int
    nodes: list
    slots: list         # (position, SlotSpec)
    py_inputs: list     # PyInput
    py_guards: list     # PyGuard
    constants: list     # (Value, array)
    decision: object    # Decision ending it, or None for the leaf


def split(trace) -> list:
    nodes = trace.graph.nodes
    bounds = [d.position for d in trace.decisions] + [len(nodes)]
    pieces, start = [], 0
    for k, end in enumerate(bounds):
        pieces.append(Piece(
            k, nodes[start:end],
            [(i, s) for i, s in enumerate(trace.slots) if s.segment == k],
            [p for p in trace.py_inputs if p.segment == k],
            [g for g in trace.py_guards if g.segment == k],
            [(v, a) for v, a in trace.constants if trace.constant_segment.get(v, 0) == k],
            trace.decisions[k] if k < len(trace.decisions) else None))
        start = end
    return pieces


class NewSizes(str):
    """Why a segment does not apply, when the only difference is a tensor the step reads by
    name (a global the loop rebinds: `line_tensor`, `x` of `for x, y in loader`) now having other
    sizes, as a new argument shape (runtime/compiled.py: traced without counting against the
    recompile limit, config.dynamo.automatic_dynamic_shapes)."""


def _sizes_only(spec, flat, objs, seg) -> bool:
    if not hasattr(spec, "slot") or spec.slot[0] != "name":
        return False
    found, obj = guardcode.failing_tensor(seg, spec, flat, objs)
    if not found or obj is None:
        return False
    d = obj._data
    return (d.dtype == spec.dtype.np and d.ndim == len(spec.shape) and d.shape != spec.shape
            and obj._requires_grad == spec.requires_grad)


class Segment:
    """A node of the trace tree (see the module docstring)."""

    def __init__(self, piece, rename, arg_guard, lifted_labels, trace):
        self.index = piece.index
        self.arg_guard = arg_guard          # (grad mode, treedef, signature, aliases) for a root
        self.slots = [(i, _renamed_slot(s, rename)) for i, s in piece.slots]
        self.draws = guardcode.has_draws(self)     # (NumPy draws: tracer/draws.py)
        self.py_inputs = [(rename(p.value), p) for p in piece.py_inputs]
        self.py_guards = piece.py_guards
        self.constants = [(rename(v), a) for v, a in piece.constants]
        self.nodes = [Node(n.prim, [rename(x) if isinstance(x, Value) else x for x in n.inputs],
                           n.attrs, n.out, n.loc) for n in piece.nodes]
        self.decision = None if piece.decision is None else piece.decision.renamed(rename)
        self.children = {}                  # decision key -> [Segment]
        self.leaf = None                    # the (renamed) Trace, for the last segment
        self.trace = trace                  # the trace that created this segment
        self.lifted_labels = lifted_labels  # Value -> "@label", for the segment graph
        self.exports = set()                # values later segments or the leaf read
        self.graph = None
        self.program = None
        self.returned = set()               # leaf: values the caller gets back
        self.check = None                   # guardcode.check_function, built at first use
        self.uses = 0
        self.tree_uses = 0       # the uses a fast call did not serve (CompiledFunction.stats)
        self.verify_at = 1

    # -- the call path --------------------------------------------------------------------
    def enter(self, key, flat, objs, env):
        """Check this segment's guards for the call; on success extend objs and env. Returns
        None, or the reason the segment does not apply."""
        if self.arg_guard is not None and key != self.arg_guard:
            return arg_guard_failure(self.arg_guard, key)
        check = self.check
        if check is None:
            check = self.check = guardcode.check_function(self)
        failed = check(flat, objs, env)
        if failed is None:
            return None
        why = guardcode.failure(self, failed, flat, objs)
        return NewSizes(why) if _sizes_only(failed, flat, objs, self) else why

    def run(self, env, backend, stats, keep=True):
        """Run this segment's program (built for `backend` when it has none; kept unless
        `keep` is false)."""
        if not self.nodes:
            return env
        program = self.program
        if program is None:
            with span("build program", "compile"):
                program = get_program(self.build_graph(), backend, stats)
            if keep:
                self.program = program
        if PROFILE.active is None:
            return program.run(env)
        return timed(f"run {type(program).__name__} {self.build_graph().name}", "compiled",
                     program.run, env, kernels=_kernel_names(program),
                     nodes=len(self.nodes))

    def build_graph(self):
        if self.graph is not None:
            return self.graph
        produced = {n.out for n in self.nodes}
        g = Graph(name=f"{self.trace.graph.name}.seg{self.index}", stage="segment")
        seen = set()
        for n in self.nodes:
            for x in n.inputs:
                if isinstance(x, Value) and x not in produced and x not in seen:
                    seen.add(x)
                    label = self.lifted_labels.get(x)
                    if label is None:
                        g.inputs.append(x)
                    else:
                        g.lifted.append((x, label))
        g.nodes = self.nodes
        leaf = self.leaf
        if leaf is None:
            g.outputs = [n.out for n in self.nodes if n.out in self.exports]
        else:
            # Only the leaf writes back: a backend may compute a write into the tensor's own
            # buffer, which must not happen before every decision has been taken.
            written = {v for _, v in leaf.graph.writes}
            g.writes = [(label, v) for label, v in leaf.graph.writes if v in produced]
            g.outputs = [n.out for n in self.nodes
                         if n.out in self.exports and (n.out not in written or n.out in self.returned)]
        self.graph = g
        return g

    def export(self, values):
        new = (values & {n.out for n in self.nodes}) - self.exports
        if new:
            self.exports |= new
            self.graph = self.program = None   # rebuilt with the extra outputs


def _renamed_slot(spec, rename):
    gw = spec.grad_write
    if gw is not None and gw[0] == "new":
        gw = ("new", rename(gw[1]))
    return dataclasses.replace(
        spec, value=None if spec.value is None else rename(spec.value),
        data_write=None if spec.data_write is None else rename(spec.data_write), grad_write=gw)


def renamed_trace(trace, rename):
    """The trace's leaf information (slots, results, writes) in the tree's values."""
    g = trace.graph
    graph = Graph(name=g.name, inputs=g.inputs, lifted=g.lifted, nodes=g.nodes,
                  outputs=[rename(v) if isinstance(v, Value) else v for v in g.outputs],
                  writes=[(label, rename(v)) for label, v in g.writes], stage=g.stage)
    out_specs = [(k, rename(w) if isinstance(w, Value) else w) for k, w in trace.out_specs]
    return dataclasses.replace(
        trace, graph=graph, slots=[_renamed_slot(s, rename) for s in trace.slots],
        out_specs=out_specs, escapes=[(t, rename(v)) for t, v in trace.escapes],
        py_writes=[w.renamed(rename) if getattr(w, "values", ()) else w for w in trace.py_writes],
        aot=None if trace.aot is None else trace.aot.renamed(rename))


# -- grafting -----------------------------------------------------------------------------------
class Stale:
    """A new trace agrees with the tree on every guard and decision but records other work."""

    def __init__(self, cause, loc):
        self.cause = cause
        self.loc = loc

    def __str__(self):
        return self.cause


def graft(roots, trace, arg_guard):
    """Add trace to the tree rooted at `roots` (a list, extended in place).

    Returns (path, status): the segments a call following this trace runs, and "same" (the
    tree already held this trace), "new" (it grew), or a Stale (not grafted; path is None)."""
    pieces = split(trace)
    subst = {}
    rename = _renamer(subst)
    labels = {v: label for v, label in trace.graph.lifted}
    level, path = roots, []
    for piece in pieces:
        match, stale = None, None
        for cand in level:
            result = _match(cand, piece, subst, arg_guard if piece.index == 0 else None, trace)
            if result is True:
                match = cand
                break
            if isinstance(result, Stale):
                stale = result
        if match is None:
            if stale is not None:
                return None, stale
            return _grow(level, pieces[piece.index:], rename, labels, arg_guard, trace, path), "new"
        path.append(match)
        if piece.decision is None:
            return path, "same"
        level = match.children.setdefault(piece.decision.seen, [])
    raise AssertionError("unreachable: the last piece has no decision")


def _renamer(subst):
    def rename(v):
        return subst.get(v, v)
    return rename


def _grow(level, pieces, rename, labels, arg_guard, trace, path):
    for piece in pieces:
        seg = Segment(piece, rename, arg_guard if piece.index == 0 else None,
                      {rename(v): label for v, label in labels.items()}, trace)
        level.append(seg)
        path.append(seg)
        if piece.decision is not None:
            level = seg.children.setdefault(piece.decision.seen, [])
    leaf = path[-1]
    leaf.leaf = renamed_trace(trace, rename)
    _set_exports(path, leaf.leaf)
    return path


def _set_exports(path, leaf):
    """Each segment exports what later segments of the path, their decisions and the leaf read."""
    needed = {v for v in leaf.graph.outputs if isinstance(v, Value)}
    needed |= {v for _, v in leaf.graph.writes}
    returned = {w for k, w in leaf.out_specs if k in ("value", "item")} | {v for _, v in leaf.escapes}
    if leaf.aot is not None:   # residuals outlive the call, held by its backward node
        returned |= set(leaf.aot.residuals)
    path[-1].returned = returned
    for seg in reversed(path):
        d = seg.decision
        if d is not None:
            needed.add(d.value)
            if isinstance(d.other, Value):
                needed.add(d.other)
        seg.export(needed)
        for n in seg.nodes:
            needed |= {x for x in n.inputs if isinstance(x, Value)}


def _match(seg, piece, subst, arg_guard, trace):
    """True (and subst extended) when piece is seg; False when its guards differ; a Stale when
    the guards agree but the recorded work does not."""
    if seg.arg_guard != arg_guard:
        return False
    if not _same_guards(seg, piece):
        return False
    local = {}

    def rename(v):
        return local.get(v) or subst.get(v, v)

    for (_, a), (_, b) in zip(seg.slots, piece.slots):
        if b.value is not None:
            local[b.value] = a.value
    for (a, _), p in zip(seg.py_inputs, piece.py_inputs):
        local[p.value] = a
    for (a, x), (b, y) in zip(seg.constants, piece.constants):
        if not constants_equal(x, y):
            return Stale(f"a constant tensor the step makes ({b.type}) has other values", None)
        local[b] = a
    if len(seg.nodes) != len(piece.nodes):
        n = piece.nodes[min(len(seg.nodes), len(piece.nodes))] if len(piece.nodes) > len(seg.nodes) \
            else None
        return Stale(f"the step now records {len(piece.nodes)} operations where it recorded "
                     f"{len(seg.nodes)}" + (f" (first extra: {n.prim.name} at {n.loc}: `{n.loc.text}`)"
                                            if n is not None and n.loc else ""),
                     n.loc if n is not None else None)
    for a, b in zip(seg.nodes, piece.nodes):
        why = _node_difference(a, b, rename)
        if why is not None:
            return Stale(why, b.loc)
        local[b.out] = a.out
    if (seg.decision is None) != (piece.decision is None):
        return Stale("the step now takes a data-dependent decision at another point", None)
    if seg.decision is not None and not seg.decision.same_spec(piece.decision, rename):
        d = piece.decision
        return Stale(f"the data-dependent decision at {d.where()} asks another question "
                     f"({d.expression()} instead of {seg.decision.expression()})", d.loc)
    if seg.decision is None:
        why = _leaf_difference(seg.leaf, trace, rename)
        if why is not None:
            return Stale(why, None)
    subst.update(local)
    return True


def _same_guards(seg, piece):
    if len(seg.slots) != len(piece.slots) or len(seg.py_inputs) != len(piece.py_inputs) \
            or len(seg.py_guards) != len(piece.py_guards) or len(seg.constants) != len(piece.constants):
        return False
    for (i, a), (j, b) in zip(seg.slots, piece.slots):
        if i != j or a.slot[0] != b.slot[0] or not _same_where(a.slot, b.slot) or a.shape != b.shape \
                or a.dtype != b.dtype or a.requires_grad != b.requires_grad \
                or a.grad_is_none != b.grad_is_none or (a.value is None) != (b.value is None):
            return False
    for (_, a), b in zip(seg.py_inputs, piece.py_inputs):
        if a.container is not b.container or a.key != b.key or a.type is not b.type:
            return False
    for a, b in zip(seg.py_guards, piece.py_guards):
        if hasattr(a, "same_as"):   # a BindingGuard: the same object, not an equal value
            if not a.same_as(b):
                return False
        elif a.container is not b.container or a.key != b.key or not _equal(a.value, b.value):
            return False
    for (a, x), (b, y) in zip(seg.constants, piece.constants):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
    return True


def _same_where(a, b):
    return a[1] is b[1] if a[0] == "obj" else a[1] == b[1]   # a NamePlace compares its place


def _equal(a, b):
    try:
        if type(a) is type(b) and bool(a == b):
            return True
    except Exception:
        return a is b
    # a NaN constant (`where(empty, float("nan"), v)`) is the same constant on every call
    return type(a) is float and type(b) is float and a != a and b != b


def _node_difference(a, b, rename):
    where = f" (at {b.loc}: `{b.loc.text}`)" if b.loc is not None else ""
    if a.prim is not b.prim:
        return f"the step now computes {b.prim.name} where it computed {a.prim.name}{where}"
    if a.out.shape != b.out.shape or a.out.dtype != b.out.dtype:
        return f"{b.prim.name} now gives {b.out.type}, was {a.out.type}{where}"
    if not _equal(a.attrs, b.attrs):
        return f"{b.prim.name} now has attributes {b.attrs}, were {a.attrs}{where}"
    for x, y in zip(a.inputs, b.inputs):
        if isinstance(x, Value) or isinstance(y, Value):
            if not isinstance(y, Value) or rename(y) is not x:
                return f"{b.prim.name} now reads other values{where}"
        elif not _equal(x, y):
            return f"the constant {x!r} in {b.prim.name} is now {y!r}{where}"
    return None


def _leaf_difference(leaf, trace, rename):
    if not _equal(leaf.out_treedef, trace.out_treedef):
        return "the step's result has another structure or other Python values"
    if len(leaf.out_specs) != len(trace.out_specs) or not all(
            k1 == k2 and (rename(w2) is w1 if isinstance(w2, Value) else _equal(w1, w2))
            for (k1, w1), (k2, w2) in zip(leaf.out_specs, trace.out_specs)):
        return "the step returns other values"
    if len(leaf.escapes) != len(trace.escapes) or not all(
            _same_escape(e, f) and rename(w) is v
            for (e, v), (f, w) in zip(leaf.escapes, trace.escapes)):
        return "the step now keeps other tensors after it returns"
    if len(leaf.py_writes) != len(trace.py_writes) or not all(
            a.same_as(b, rename) for a, b in zip(leaf.py_writes, trace.py_writes)):
        return "the step now sets other Python values"
    for a, b in zip(leaf.slots, trace.slots):
        if (a.data_write is None) != (b.data_write is None) or a.replaced != b.replaced:
            return f"the step now writes {b.label} differently"
        if a.data_write is not None and rename(b.data_write) is not a.data_write:
            return f"the step now writes another value to {b.label}"
        ga, gb = a.grad_write, b.grad_write
        if (ga is None) != (gb is None) or (ga is not None and (
                ga[0] != gb[0] or (ga[0] == "new" and rename(gb[1]) is not ga[1])
                or (ga[0] == "object" and ga[1] != gb[1]))):
            return f"the step now sets {b.label}.grad differently"
    return None


def _same_escape(a, b):
    """The same tensor object, or the same rebound name (a NamePlace)."""
    return a is b if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b


def constants_equal(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


def clear_programs():
    """Forget every cached program (tests that count program builds start from here)."""
    _PROGRAMS.clear()


def _kernel_names(program) -> list:
    """What a program runs, for the profiler: per group, a loop kernel's cache name and the IR
    values it computes, or an op's primitive and value."""
    record = getattr(program, "record", None)
    if record is None or record.fused is None:
        return [type(program).__name__]
    names = []
    for g, k in zip(record.fused.groups, record.kernels or [None] * len(record.fused.groups)):
        values = ", ".join(f"%{n.out.name} {n.prim.name}" for n in g.nodes)
        names.append(f"{k.fname} ({values})" if k is not None else f"op {values}")
    if getattr(program, "native", None) is not None:
        names.insert(0, "native program of:")
    return names
