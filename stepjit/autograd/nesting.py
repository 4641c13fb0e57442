"""How function transforms nest on the one tape (torch.func's grad/vjp/jacrev, stepjit.grad).

A transform differentiates its function with respect to some arguments. It enters each one
as a fresh leaf (a detached copy that requires grad), or, when the argument already requires
grad with grad mode on (an enclosing transform, or the user's own autograd), as a view of
itself, so the derivative keeps a path back to it. Whether the derivative needs a history
of its own (create_graph) is then read off the function's result: only when its history
reaches a tensor that requires grad other than the transform's fresh leaves (a closure's
parameter, an argument with history) can anything outside differentiate it again. That makes
an outermost transform a plain first-order backward (the fast eager paths apply), and a
nested one, or one over parameters the user trains, a create_graph backward. Results are
detached unless their history reaches outside, as functorch's are.

A transform that has returned leaves its fresh leaves behind in the history of what it
returned (a nested grad's result hangs from its own leaves): `finish` records them, and they
count as outside for nobody, so an enclosing transform is not fooled into create_graph (or
into keeping a result's history) by them.
"""
from __future__ import annotations

import weakref

from .node import AccumulateGrad

_FINISHED = weakref.WeakValueDictionary()   # id -> a fresh leaf of a transform that returned


def enter(x, fresh, grad_enabled):
    """x as the transformed function sees it; the id of a fresh leaf is added to `fresh`.
    grad_enabled: grad mode where the transform was called (it runs the function with grad
    mode on)."""
    if x.requires_grad and grad_enabled:
        return x.view_as(x)
    leaf = x.detach().requires_grad_(True)
    leaf._fw = x._fw   # forward over reverse (jacfwd(jacrev(f))): the tangent stays
    fresh.add(id(leaf))
    return leaf


def detach(t):
    """t detached from the transform's history, keeping a forward-mode tangent (which
    belongs to an enclosing jvp/jacfwd)."""
    d = t.detach()
    d._fw = t._fw
    return d


def reaches_outside(tensors, fresh):
    """Whether the history of any of tensors (None skipped) reaches a tensor that requires
    grad other than the fresh leaves: a walk of their graph."""
    stack = []
    for t in tensors:
        if t is None or not t.requires_grad:
            continue
        if t.grad_fn is None:
            if not _inside(t, fresh):
                return True
        else:
            stack.append(t.grad_fn)
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            if not _inside(node.variable, fresh):
                return True
            continue
        for child, _ in node.edges:
            if child is not None and child not in seen:
                stack.append(child)
    return False


def _inside(leaf, fresh):
    return id(leaf) in fresh or _FINISHED.get(id(leaf)) is leaf


def finish(leaves, fresh):
    """The transform that made these leaves returned (module docstring)."""
    for leaf in leaves:
        if id(leaf) in fresh:
            _FINISHED[id(leaf)] = leaf


def needs_graph(tensors, fresh, grad_enabled):
    """Whether a derivative of tensors must be taken with create_graph (module docstring);
    grad_enabled as for enter."""
    return grad_enabled and reaches_outside(tensors, fresh)
