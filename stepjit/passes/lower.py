"""Lowering to fusible forms: rewrites that turn an op fusion cannot enter into an
elementwise one computing exactly the same values.

- `x[mask] = c` (index_put of a scalar through a bool mask of x's full shape) is
  `where(mask, c, x)`: the custom-ReLU backward's `grad[input < 0] = 0` then fuses
  with its neighbours instead of running as a separate indexing op.
"""
from __future__ import annotations

from ..ir import primitives as P
from ..ir.graph import Graph, Node, Value


def _is_full_mask_scalar_put(node) -> bool:
    if node.prim is not P.index_put or node.attrs["accumulate"] or node.attrs["key"] != ("T",):
        return False
    base, value, *idx = node.inputs
    return (len(idx) == 1 and isinstance(idx[0], Value) and idx[0].dtype.category == 0
            and idx[0].shape == base.shape and not isinstance(value, Value))


def lower(graph: Graph) -> Graph:
    nodes = []
    for n in graph.nodes:
        if _is_full_mask_scalar_put(n):
            base, value, mask = n.inputs
            n = Node(P.where, [mask, value, base], {}, n.out, n.loc)
        nodes.append(n)
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")
