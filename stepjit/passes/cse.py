"""Common-subexpression elimination: one node per distinct computation.

Two nodes compute the same value when they apply the same primitive to the
same operands with the same attrs. Operands are compared as Values by
identity and as literals by type and value (`rewrite.data_key`: 1, 1.0 and
True differ, so do 0.0 and -0.0); attrs the same way. Creation ops (`full`,
`arange`) take part. Impure primitives never do: two random draws are two.

The later duplicate is dropped and its uses read the earlier value, unless that
would make two escaping values (outputs, writes) one buffer; then it stays.
"""
from __future__ import annotations

from ..ir.graph import Graph
from .rewrite import clone, escaping, is_pure, may_replace, node_key, rebuild, resolve


def cse(graph: Graph) -> Graph:
    subst, seen, nodes = {}, {}, []
    escapes, graph_inputs = escaping(graph), set(graph.all_inputs())
    for node in graph.nodes:
        inputs = [resolve(subst, x) for x in node.inputs]
        if is_pure(node.prim):
            key = node_key(node.prim, inputs, node.attrs, node.out)
            first = seen.get(key)
            if first is not None and may_replace(node.out, first, escapes, graph_inputs):
                subst[node.out] = first
                continue
            seen.setdefault(key, node.out)
        nodes.append(clone(node, inputs=inputs))
    return rebuild(graph, nodes, subst, "cse")
