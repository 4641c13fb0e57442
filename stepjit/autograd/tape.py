"""The engine's walk, unrolled for a tape whose structure recurs: one generated function.

A training step builds the same tape every call: the same nodes with the same
plans, wired the same way. The engine (engine.py) rediscovers that on every
backward: dependency counts, a ready stack, gradient buffers in dicts, a key per
node to find its straight-line VJP function (array_vjp.py). Here a backward
walks the tape once to build its structural key (each node's plan or type, the
saved Python numbers its function depends on, its edges as indices); the third
time a key is seen (`WARM_AFTER`), the engine's schedule for that structure is
written out as one Python function (codegen/tape_function.py says what it does,
step by step), which runs the backward with the same bits the engine gives.

Once written, a function is tried on later tapes from roots of its root's type
before any walk: it binds its nodes from the root edge by edge and checks what
the key would hold (plans, types, saved numbers, edges, distinct nodes), so a
recurring tape costs no walk and no key; a tape it was not written for makes
it return False before doing anything, and the tape is walked.

Writing the function is the code generator's job, reached through
`generators.write_tape`, which the public API (stepjit/api.py) sets: the front end imports
nothing above it. Until it is set, the engine runs every backward.

Only for `backward()` from one root, eagerly (no tracer); autograd.grad and
several roots take the engine. `ENABLED = False` forces the engine (tests
compare the two).
"""
from __future__ import annotations

import numpy as np

from .. import dispatch
from ..tensor import Tensor
from . import generators
from .engine import RUNNING, _accumulate, _all_none, _pre_hooks
from .grad_mode import STATE as GRAD
from .node import AccumulateGrad, PrimBackward

ENABLED = True
WARM_AFTER = 2     # backwards of one structure the engine runs before its function is written
MAX_TAPES = 256    # structures tracked at once (the table is cleared when full)
MAX_PER_ROOT = 8   # written functions tried, most recent first, before a tape is walked

_TAPES: dict = {}  # structural key -> sightings so far (int), or the tape's function
_BY_ROOT: dict = {}  # root node class -> written functions to try (each checks its structure)
_PRIM, _ACC, _OTHER = 0, 1, 2
_KINDS: dict = {}  # node class -> _PRIM / _ACC / _OTHER
_NDARRAY = np.ndarray


def run(roots, root_grads, retain_graph):
    """Run `backward()` from roots by the tape's function; False when the engine must run it
    (several roots, tracing, a structure seen too rarely, or one that cannot be keyed)."""
    if not ENABLED or len(roots) != 1 or dispatch.MODE.tracer is not None:
        return False
    t = roots[0]
    root, nr = t._grad_fn, t._output_nr   # (_grad_edge's answer for a tensor with history)
    if root is None:
        root, nr = t._grad_edge()
        if root is None:
            return False
    seed = root_grads[0]
    enabled = GRAD.enabled
    fns = _BY_ROOT.get(type(root))
    if fns:   # a written function checks the structure itself: no walk, no key
        GRAD.enabled = False
        try:
            for fn in fns:
                if fn(root, nr, seed, retain_graph, set()) is not False:
                    return True
        finally:
            GRAD.enabled = enabled
            RUNNING.node = None
    walked = _walk(root, nr)
    if walked is None:
        return False
    key, nodes = walked
    fn = _TAPES.get(key, 0)
    if type(fn) is int:
        if fn < WARM_AFTER or generators.write_tape is None:
            if len(_TAPES) >= MAX_TAPES:
                _TAPES.clear()
                _BY_ROOT.clear()
            _TAPES[key] = fn + 1
            return False
        fn = _TAPES[key] = generators.write_tape(nodes, nr, seed)
    _first(fn, type(root))
    GRAD.enabled = False
    try:
        return fn(root, nr, seed, retain_graph, set()) is not False
    finally:
        GRAD.enabled = enabled
        RUNNING.node = None


def _first(fn, root_cls):
    """fn first among the functions tried for roots of root_cls (at most MAX_PER_ROOT)."""
    fns = _BY_ROOT.setdefault(root_cls, [])
    if fn in fns:
        fns.remove(fn)
    fns.insert(0, fn)
    del fns[MAX_PER_ROOT:]


def _kind(cls):
    kind = _KINDS[cls] = (_PRIM if issubclass(cls, PrimBackward)
                          else _ACC if cls is AccumulateGrad else _OTHER)
    return kind


def _walk(root, nr):
    """(structural key, nodes in key order), breadth first from root; None when a node cannot
    be keyed (a freed one whose numbers are gone: the engine raises the error). (A NaN number
    never equals itself: its tape never recurs and stays with the engine.)"""
    nodes = [root]
    index = {root: 0}
    key = [nr]
    for n in nodes:   # (grows while walked)
        cls = type(n)
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _kind(cls)
        if kind == _PRIM:
            plan = n.plan
            key.append(plan)
            names = plan.numbers
            if names is None or names:
                saved = n.saved
                if saved is None:
                    return None
                if names is None:
                    names = plan.numbers = _number_names(plan, saved)
                for name in names:
                    key.append(saved[name])
        elif kind == _ACC:
            key.append(cls)
        else:
            key.append(cls)
            key.append(n.n_outputs)
        for child, child_nr in n.edges:
            if child is None:
                key.append(-1)
            else:
                j = index.get(child)
                if j is None:
                    j = index[child] = len(nodes)
                    nodes.append(child)
                key.append(j)
                key.append(child_nr)
    return tuple(key), nodes


def _number_names(plan, saved):
    """The saved values of plan's nodes that are Python numbers (fixed by the forward signature,
    which keys numbers by type): a straight-line function has them built in."""
    return tuple(name for name, _ in plan.save if type(saved[name]) in (int, float, bool))


def _slow(node, grads, n_edges):
    """One node as the engine runs it: pre-hooks and retain_grad, then apply (or no gradients
    at all); the result padded to one entry per edge, as zip in the engine would read it."""
    if node.pre_hooks or node.retained:
        grads = _pre_hooks(node, grads)
    if grads[0] is None and _all_none(grads):
        return (None,) * n_edges
    RUNNING.node = node
    out = list(node.apply(grads))
    RUNNING.node = None
    if len(out) < n_edges:
        out += [None] * (n_edges - len(out))
    return out


def _tensor(g):
    """A gradient as the engine hands it on: a bare array (a straight-line function's fresh
    gradient, which nothing has seen) in the new tensor the function would have made."""
    return Tensor._make(g) if type(g) is _NDARRAY else g


def _accumulate_leaf(node, g, owned):
    """AccumulateGrad as the engine runs it (hooks on the leaf first)."""
    if node.pre_hooks or node.retained or node.variable._hooks:
        g = _pre_hooks(node, [g])[0]
        if g is None:
            return
    _accumulate(node.variable, g, owned)
