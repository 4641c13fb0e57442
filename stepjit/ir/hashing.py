"""Structural identity of a Graph: what a compiled program depends on, and nothing else.

Two graphs are structurally equal when they apply the same primitives with the
same attributes and literals, wired the same way, to inputs of the same types:
value names, source locations, lifted labels and the graph's name do not count
(but which write goes back to which lifted input does, since a backend may
compute a write straight into that input's buffer). With `shapes=False`,
shapes are left out too, so graphs that differ only in their sizes (a new
batch size, another sequence length of the same loop body) share a key; a
backend whose programs are size-generic can reuse one program for all of them.

Values are numbered canonically (inputs, then lifted inputs, then node
outputs, in order), so `canonical_values` pairs up the values of two equal
graphs position by position; the runtime uses that to run one program on
another graph's values.
"""
from __future__ import annotations

import hashlib

from .graph import Graph, Value


def canonical_values(graph: Graph) -> list:
    """Every value the graph binds or computes, in canonical order."""
    return list(graph.inputs) + [v for v, _ in graph.lifted] + [n.out for n in graph.nodes]


def _literal(x):
    return (type(x).__name__, repr(x))


def _attr(x):
    if isinstance(x, dict):
        return ("dict", tuple((k, _attr(v)) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_attr(v) for v in x))
    return _literal(x)


def structural_key(graph: Graph, shapes: bool = True) -> tuple:
    """A hashable description of the graph's structure (see the module docstring)."""
    index = {}

    def typ(v):
        return (v.dtype.short, v.shape) if shapes else (v.dtype.short, len(v.shape))

    def ref(x):
        if isinstance(x, Value):
            i = index.get(x)
            return ("v", i) if i is not None else ("free", typ(x))
        return ("lit",) + _literal(x)

    parts = []
    for v in graph.inputs:
        index[v] = len(index)
        parts.append(("in", typ(v)))
    lifted_label = {}
    for v, label in graph.lifted:
        lifted_label[label] = index[v] = len(index)
        parts.append(("lifted", typ(v)))
    for n in graph.nodes:
        parts.append((n.prim.name, _attr(n.attrs), tuple(ref(x) for x in n.inputs), typ(n.out)))
        index[n.out] = len(index)
    parts.append(("outputs", tuple(ref(v) for v in graph.outputs)))
    parts.append(("writes", tuple((ref(v), lifted_label.get(label.split(":")[0], -1))
                                  for label, v in graph.writes)))
    return tuple(parts)


def structural_hash(graph: Graph, shapes: bool = True) -> str:
    """A short stable digest of `structural_key(graph, shapes)`."""
    return hashlib.sha1(repr(structural_key(graph, shapes)).encode()).hexdigest()[:16]
