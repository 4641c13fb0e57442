"""The backward engine: walks the tape from the roots and hands gradients to the leaves.

It uses tensor operations only (no NumPy), so the same walk runs on eager
tensors and, during a trace, on trace-time tensors that emit IR; that is how a
compiled step sums gradients in exactly the order eager does.

Nodes run in dependency order (a node runs once every node that feeds it a
gradient has run); gradients arriving at one node output are summed in
arrival order.
"""
from __future__ import annotations

import itertools
import weakref

from .. import dispatch
from ..profiler import STATE as PROFILE, timed
from ..ir.primitives import add as _ADD
from .anomaly_mode import STATE as ANOMALY, check_outputs
from .grad_mode import STATE as GRAD
from .node import AccumulateGrad

_NONES = itertools.repeat(None)   # every output gradient None: zip stops at the edges


class _Running:
    """The node whose VJP is being evaluated: the tracer names its forward line on backward IR."""
    __slots__ = ("node",)

    def __init__(self):
        self.node = None


RUNNING = _Running()


def _graph(roots, targets):
    """Dependency counts of the nodes reachable from roots; with targets, only useful ones."""
    deps = {}
    seen = set()
    order = []
    stack = [(n, False) for n in roots if n is not None]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for child, _ in node.edges:
            if child is not None:
                deps[child] = deps.get(child, 0) + 1
                if child not in seen:
                    stack.append((child, False))
    useful = None
    if targets is not None:
        useful = set()
        for node in order:  # children come before parents in this post-order
            if node in targets or any(c in useful for c, _ in node.edges if c is not None):
                useful.add(node)
    return deps, useful


def run_backward(roots, root_grads, *, retain_graph=False, inputs=None, accumulate=True,
                 create_graph=False):
    """Propagate root_grads back from roots (tensors). Returns the gradients reaching `inputs`.

    create_graph: the walk runs with grad mode on, and each node computes its gradients with
    taped ops on saved values that keep their history (node.py), so the gradients returned
    or accumulated have a grad_fn of their own and can be differentiated again."""
    if len(roots) == 1:   # (loss.backward(): no comprehension frames for one root)
        edges = (roots[0]._grad_edge(),)
        root_nodes = (edges[0][0],)
    else:
        edges = [t._grad_edge() for t in roots]
        root_nodes = [n for n, _ in edges]
    tracer = dispatch.MODE.tracer
    if tracer is not None:   # the tracer learns that the step runs a backward of its own
        tracer.backward_started(accumulate, root_nodes)
    captured = {}
    target_edges = None
    if inputs is None:
        deps, useful = _dependencies(root_nodes), None
    else:
        target_edges = {t._grad_edge() for t in inputs}
        deps, useful = _graph(root_nodes, {n for n, _ in target_edges})
    buffers = {}
    for (node, nr), g in zip(edges, root_grads):
        _add_to_buffer(buffers, node, nr, g)
    if len(root_nodes) == 1:
        ready = [root_nodes[0]] if deps.get(root_nodes[0], 0) == 0 else []
    else:
        ready = list(dict.fromkeys(n for n in root_nodes if deps.get(n, 0) == 0))
    owned = set()
    prof = PROFILE.active
    enabled, higher = GRAD.enabled, GRAD.create_graph
    GRAD.enabled = GRAD.create_graph = create_graph   # (no context object per backward)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is not None:
                if node.pre_hooks or node.retained or (type(node) is AccumulateGrad
                                                       and node.variable._hooks):
                    grads = _pre_hooks(node, grads)
                if target_edges:
                    _capture(node, grads, target_edges, captured)
            if type(node) is AccumulateGrad:
                if accumulate and grads is not None and grads[0] is not None:
                    if create_graph:
                        _accumulate_with_history(node.variable, grads[0])
                    elif prof is None:
                        _accumulate(node.variable, grads[0], owned)
                    else:
                        timed("AccumulateGrad", "autograd", _accumulate, node.variable,
                              grads[0], owned)
                if not retain_graph:
                    node.release()
                continue
            if grads is None or (grads[0] is None and _all_none(grads)):
                out = _NONES
            else:
                RUNNING.node = node
                out = node.apply(grads) if prof is None else \
                    timed(type(node).__name__, "autograd", node.apply, grads)
                RUNNING.node = None
                if ANOMALY.enabled and ANOMALY.check_nan:
                    out = list(out)
                    check_outputs(node, out)
            # Hand the output gradients to the children (inline: this runs once per node); a
            # child whose last input arrived is ready.
            for (child, nr), g in zip(node.edges, out):
                if child is None:
                    continue
                if g is not None and (useful is None or child in useful):
                    if nr == 0 and child.n_outputs == 1 and child not in buffers:
                        buffers[child] = [g]
                    else:
                        _add_to_buffer(buffers, child, nr, g)
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    ready.append(child)
            if not retain_graph:
                node.release()
    finally:
        GRAD.enabled, GRAD.create_graph = enabled, higher
        RUNNING.node = None
    if inputs is None:
        return None
    return [captured.get(t._grad_edge()) for t in inputs]


def _dependencies(roots):
    """How many edges from nodes reachable from roots lead into each node. Roots start at 0, so
    each is walked once however often it is given (one node's two outputs, a tensor passed
    twice), and a root that another root reaches counts that edge; every other node is walked
    when first met."""
    deps = dict.fromkeys([n for n in roots if n is not None], 0)
    stack = list(deps)
    while stack:
        for child, _ in stack.pop().edges:
            if child is not None:
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    stack.append(child)
    return deps


def _capture(node, grads, target_edges, captured):
    for nr, g in enumerate(grads):
        if g is not None and (node, nr) in target_edges:
            captured[(node, nr)] = g


def _all_none(grads):
    for g in grads:
        if g is not None:
            return False
    return True


def _add_to_buffer(buffers, node, nr, g):
    slots = buffers.get(node)
    if slots is None:
        n = max(1, node.n_outputs)
        slots = buffers[node] = [None] * n
    slots[nr] = g if slots[nr] is None else slots[nr] + g


def _pre_hooks(node, grads):
    """Tensor hooks may replace a gradient; retain_grad stores it, after the hooks."""
    hooks = node.pre_hooks
    if isinstance(node, AccumulateGrad):
        hooks = {0: node.variable._hooks} if node.variable._hooks else None
    if hooks:
        grads = list(grads)
        for nr, fns in hooks.items():
            for fn in fns:
                if grads[nr] is None:
                    continue
                new = fn(grads[nr])
                if new is not None:
                    grads[nr] = new
    if node.retained:
        for nr, ref in node.retained.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                if t._grad is None:
                    t._grad = grads[nr].clone()
                else:
                    t._grad = t._grad + grads[nr]
    return grads


# Leaves with hooks that run after their .grad is accumulated (the tensor's own __dict__ holds
# them: Tensor.register_post_accumulate_grad_hook), by id; empty, it costs _accumulate one test.
POST_ACCUMULATE = weakref.WeakValueDictionary()


def _post_accumulate(var):
    for hook in list(var.__dict__.get("_post_accumulate_grad_hooks", ())):
        hook(var)


def _accumulate_with_history(var, g):
    """PyTorch's AccumulateGrad under create_graph: .grad keeps the gradient's history (a
    clone the first time, then `grad + g` out of place), so it can be differentiated."""
    if g._data.shape != var._data.shape:
        g = g.expand(var.shape) if g.ndim <= var.ndim else g
    if g.dtype is not var.dtype:
        g = g.to(var.dtype)
    current = dispatch.read_grad(var)
    dispatch.write_grad(var, g.clone() if current is None else current + g)
    if POST_ACCUMULATE and id(var) in POST_ACCUMULATE:
        _post_accumulate(var)


def _accumulate(var, g, owned):
    """PyTorch's AccumulateGrad: take the gradient if nobody else holds it, else copy; then add in place."""
    if g._data.shape != var._data.shape:  # _data: an array eagerly, an IR Value while tracing
        g = g.expand(var.shape) if g.ndim <= var.ndim else g
    if g._data.dtype is not var._data.dtype and g.dtype is not var.dtype:  # first test: arrays
        g = g.to(var.dtype)
    current = dispatch.read_grad(var)
    if current is None:
        if id(g) in owned or not g._owns_storage():
            g = g.clone()
        owned.add(id(g))
        dispatch.write_grad(var, g.detach())
    elif GRAD.enabled or not dispatch.inplace_fast(_ADD, current, (g,), {}):
        current.add_(g)   # (with grad mode off, add_ is inplace_fast when that can do it)
    if POST_ACCUMULATE and id(var) in POST_ACCUMULATE:
        _post_accumulate(var)
