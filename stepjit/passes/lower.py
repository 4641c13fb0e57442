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


def lower_add_chains(graph: Graph, min_terms: int = 4) -> Graph:
    """A chain `((a + b) + c) + d` of same-shape float adds whose partial sums are used nowhere
    else becomes `sum(concat([a, b, c, d] as rows), axis=0)`.

    Gradient accumulation over the time steps of an unrolled RNN makes such chains, one term
    per step: fused as is they give a kernel with one input per step, a new kernel for every
    sequence length. As a stack and a reduction the kernel is the same for every length.
    The terms are summed in the same order, in a float64 accumulator: not bit-identical to
    the chain of float32 adds, so this runs only in the cpu pipeline, not the interpreter.
    """
    uses = {}
    for n in graph.nodes:
        for v in n.inputs:
            if isinstance(v, Value):
                uses[v] = uses.get(v, 0) + 1
    for v in list(graph.outputs) + [v for _, v in graph.writes]:
        if isinstance(v, Value):
            uses[v] = uses.get(v, 0) + 2   # leaves the graph: never an inner partial sum
    producer = {n.out: n for n in graph.nodes}

    def is_link(n):
        return (n.prim is P.add and n.out.dtype.category == 2
                and all(isinstance(v, Value) and v.shape == n.out.shape and v.dtype is n.out.dtype
                        for v in n.inputs))

    def terms(n, inner):
        out = []
        for v in n.inputs:
            p = producer.get(v)
            if p is not None and is_link(p) and uses.get(v) == 1:
                inner.add(id(p))
                out.extend(terms(p, inner))
            else:
                out.append(v)
        return out

    replaced, dropped = {}, set()
    for n in reversed(graph.nodes):
        if id(n) in dropped or not is_link(n):
            continue
        inner = set()
        leaves = terms(n, inner)
        if len(leaves) >= min_terms:
            replaced[id(n)] = leaves
            dropped |= inner
    if not replaced:
        return graph
    nodes = []
    for n in graph.nodes:
        if id(n) in dropped:
            continue
        if id(n) in replaced:
            nodes.extend(_stack_sum(n, replaced[id(n)]))
        else:
            nodes.append(n)
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")


def _stack_sum(root, leaves):
    shape, dtype, name = root.out.shape, root.out.dtype, root.out.name
    rows = []
    out = []
    for k, v in enumerate(leaves):
        row = Value(f"{name}_row{k}", (1,) + shape, dtype)
        out.append(Node(P.reshape, [v], {"shape": (1,) + shape}, row, root.loc))
        rows.append(row)
    stacked = Value(f"{name}_stack", (len(leaves),) + shape, dtype)
    out.append(Node(P.concat, rows, {"axis": 0}, stacked, root.loc))
    out.append(Node(P.sum, [stacked], {"axis": (0,), "keepdims": False}, root.out, root.loc))
    return out
