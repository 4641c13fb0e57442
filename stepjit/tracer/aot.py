"""A compiled forward whose outputs require grad: its backward, derived at trace time.

PyTorch 2 programs compile the model and keep `loss.backward()` and the
optimizer outside (`model = torch.compile(model)`). Like torch.compile's
AOTAutograd, such a trace is split in two: the forward graph, which also
returns the *residuals* (the forward values the backward reads), and a
separate backward graph from the outputs' gradients and the residuals to the
gradients of every input that requires grad (arguments and lifted parameters).
The runtime (runtime/aot.py) runs the forward, keeps the residuals and attaches
one `CompiledFunctionBackward` node to the outputs; the eager engine calls it.

The backward is derived as a step's own `loss.backward()` is: by the autograd
engine walking the tape the tracer recorded, seeded with one graph input per
differentiable output, so the registry's VJP rules stay the only gradient
formulas and gradients sum in the eager order. The nodes it emits after the
forward's are the backward graph (AOTAutograd's default partition: nothing is
recomputed).

Not derived: a step that calls backward itself (a whole training step keeps
today's detached results), and a backward that takes data-dependent decisions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import dispatch
from ..autograd.gradients import grad as autograd_grad
from ..autograd.grad_mode import STATE as GRAD
from ..autograd.grad_mode import no_grad
from ..ir import primitives as P
from ..ir.graph import Graph, Node, Value
from ..ir.types import FLOAT
from ..tensor import Tensor
from .tracer import TraceError


@dataclass
class AotSpec:
    """What the runtime needs to give a call's outputs one backward node."""
    outputs: list        # output_nr per flat result (None: not differentiable)
    out_meta: list       # (shape, DType) per output_nr
    residuals: list      # forward Values the backward reads, in backward-input order
    residual_slots: list  # per residual: slot index of the touched tensor it is, or None
    grads: list          # (slot index, backward Value or None) per input that requires grad
    graph: Graph         # inputs: residual placeholders, then one seed per output_nr
    holder: dict = field(default_factory=dict)   # the built backward program, shared by renames
    error: tuple | None = None   # (type, message) the backward raises, as eager's would

    def __post_init__(self):
        self.used = [(k, v) for k, v in self.grads if v is not None]   # the node's edges
        self.given = set(self.graph.inputs)   # gradients that are backward inputs: copied out
        # the residuals the forward computes (the others are input tensors, saved as such)
        self.kept = [v for v, k in zip(self.residuals, self.residual_slots) if k is None]

    def renamed(self, rename):
        return AotSpec(self.outputs, self.out_meta, [rename(v) for v in self.residuals],
                       self.residual_slots, self.grads, self.graph, self.holder, self.error)


def wanted(tracer, out_flat) -> bool:
    """Derive a backward for these results: grad mode is on, the step ran no backward of its
    own, and some result is a float tensor made by the step that requires grad."""
    if not GRAD.enabled or tracer.backward_runs:
        return False
    return any(_differentiable(tracer, t) for t in out_flat)


def _differentiable(tracer, t):
    return (isinstance(t, Tensor) and id(t) not in tracer.touched and t._requires_grad
            and t._grad_fn is not None and t.dtype.category == FLOAT)


def derive(tracer, out_flat) -> AotSpec:
    """Append the backward of out_flat to the trace, cut it off as its own Graph, and return
    the spec; the forward graph gains the residuals as outputs."""
    outputs, outs = _numbered(tracer, out_flat)
    leaves = [r for r in tracer.records
              if r.slot[0] != "grad" and r.value is not None and r.obj._requires_grad
              and r.obj.dtype.category == FLOAT]
    seeds = [Value(f"grad_{k}", tuple(o.shape), o.dtype) for k, o in enumerate(outs)]
    g = tracer.graph
    n_forward, n_decisions = len(g.nodes), len(tracer.decisions)
    try:
        grads = _gradients(tracer, outs, leaves, seeds)
    except RuntimeError as e:
        # What eager raises at backward (a saved tensor changed in place, a rule not written
        # yet), the node raises at backward too; the forward runs as it would eagerly.
        del g.nodes[n_forward:]
        del tracer.decisions[n_decisions:]
        return _failed(outputs, outs, e)
    if len(tracer.decisions) != n_decisions:
        raise TraceError("the backward of this compiled function reads tensor values into Python "
                         "(a data-dependent decision); compile the whole training step instead")
    backward = g.nodes[n_forward:]
    del g.nodes[n_forward:]
    grad_values = [(r.index, None if gr is None else gr._data) for r, gr in zip(leaves, grads)]
    return _cut(tracer, backward, seeds, grad_values, outputs, outs)


def _numbered(tracer, out_flat):
    """(output_nr or None per flat result, the distinct differentiable results): a result
    returned twice is one output of the node."""
    outs, outputs = [], []
    for t in out_flat:
        if not _differentiable(tracer, t):
            outputs.append(None)
            continue
        nr = next((k for k, o in enumerate(outs) if o._data is t._data), None)
        if nr is None:
            nr = len(outs)
            outs.append(t)
        outputs.append(nr)
    return outputs, outs


def _gradients(tracer, outs, leaves, seeds):
    """The engine's walk of the trace's tape from outs, seeded by the seed Values; it emits the
    backward nodes into the trace's graph. A leaf's hooks run once, eagerly, when the node hands
    it its gradient, so not here."""
    hooks = [r.obj._hooks for r in leaves]
    for r in leaves:
        r.obj._hooks = None
    try:
        return autograd_grad(outs, [r.obj for r in leaves], [tracer._new_tensor(s) for s in seeds],
                             retain_graph=True, allow_unused=True)
    finally:
        for r, h in zip(leaves, hooks):
            r.obj._hooks = h


def _failed(outputs, outs, error):
    graph = Graph(name="backward", inputs=[Value(f"grad_{k}", tuple(o.shape), o.dtype)
                                            for k, o in enumerate(outs)])
    return AotSpec(outputs, [(tuple(o.shape), o.dtype) for o in outs], [], [], [], graph,
                   error=(type(error), str(error)))


def _cut(tracer, backward, seeds, grad_values, outputs, outs):
    backward = _recompute_views(tracer.graph.nodes, backward)
    produced = {n.out for n in backward} | set(seeds)
    residuals = []
    for x in [x for n in backward for x in n.inputs] + [v for _, v in grad_values]:
        if isinstance(x, Value) and x not in produced and x not in residuals:
            residuals.append(x)
    by_value = {r.value: r for r in tracer.records if r.value is not None}
    residuals = [_kept(tracer, v, by_value.get(v)) for v in residuals]
    slots = [by_value[v].index if kept is v and v in by_value else None for v, kept in residuals]
    forward = tracer.graph
    for _, kept in residuals:
        if kept not in forward.outputs and kept not in by_value:
            forward.outputs.append(kept)
    holders = {v: Value(f"saved_{v.name}", v.shape, v.dtype) for v, _ in residuals}

    def sub(x):   # a forward value, as the backward graph's input holding it
        return holders.get(x, x) if isinstance(x, Value) else x

    bwd = Graph(name=forward.name + "_backward", inputs=list(holders.values()) + seeds,
                nodes=[Node(n.prim, [sub(x) for x in n.inputs], n.attrs, n.out, n.loc)
                       for n in backward],
                outputs=list(dict.fromkeys(v for _, v in grad_values if v is not None
                                           and v not in holders and v not in seeds)),
                stage="backward (CompiledFunctionBackward)")
    grads = [(k, None if v is None else sub(v)) for k, v in grad_values]
    return AotSpec(outputs, [(tuple(o.shape), o.dtype) for o in outs],
                   [kept for _, kept in residuals], slots, grads, bwd)


def _recompute_views(forward, backward):
    """Backward nodes, preceded by the forward views they read (a weight's transpose): the
    backward recomputes a view of a saved value instead of saving it, which costs nothing and
    saves a copy (a returned view is copied) and the memory."""
    producer = {n.out: n for n in forward}
    moved, inside = [], {n.out for n in backward}
    stack = [x for n in backward for x in n.inputs if isinstance(x, Value)]
    while stack:
        x = stack.pop()
        n = producer.get(x)
        if n is None or x in inside or not n.prim.view:
            continue
        inside.add(x)
        moved.append(n)
        stack.extend(y for y in n.inputs if isinstance(y, Value))
    order = {n.out: i for i, n in enumerate(forward)}
    return sorted(moved, key=lambda n: order[n.out]) + list(backward)


def _kept(tracer, v, rec):
    """(v, the forward Value to keep for it). An input the step writes is copied first: the
    write-back changes the tensor's array after the forward, and the backward needs the old."""
    if rec is None or (rec.obj._data is rec.value and not rec.replaced):
        return v, v
    with no_grad():
        t = Tensor._make(v)
        copy = dispatch.apply(P.copy, t)
    return v, copy._data
