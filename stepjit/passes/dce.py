"""Dead-code elimination: keep the nodes that outputs and writes need.

A node is live when its value is a graph output, is written back, or is an
operand of a live node. Impure nodes (see `rewrite.is_pure`) are always kept:
dropping one could change an effect the program relies on (an RNG stream).
Graph inputs are never removed: they are the calling convention.
"""
from __future__ import annotations

from ..ir.graph import Graph, Value
from .rewrite import clone, escaping, is_pure, rebuild


def dce(graph: Graph) -> Graph:
    live = escaping(graph)
    keep = []
    for node in reversed(graph.nodes):
        if node.out in live or not is_pure(node.prim):
            keep.append(node)
            live.update(x for x in node.inputs if isinstance(x, Value))
    return rebuild(graph, [clone(n) for n in reversed(keep)], {}, "dce")
