"""Lowering to fusible forms: rewrites that turn an op fusion cannot enter into an
elementwise one computing exactly the same values.

- `x[mask] = c` (index_put of a scalar through a bool mask of x's full shape) is
  `where(mask, c, x)`: the custom-ReLU backward's `grad[input < 0] = 0` then fuses
  with its neighbours instead of running as a separate indexing op.
- `reshape(sum(x, axis, keepdims=True))` that drops the kept axes is `sum(x, axis)`
  (lower_squeezed_reductions): a bias's gradient comes out as the reduction's own array.

The cpu pipeline alone also runs rewrites that are exact in real arithmetic but may round
differently (lower_add_chains, lower_transposed_matmuls).
"""
from __future__ import annotations

from ..ir import primitives as P
from ..ir.graph import Graph, Node, Value
from .rewrite import same_type


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


def lower_squeezed_reductions(graph: Graph) -> Graph:
    """`reshape(r(x, axis, keepdims=True))` to r's shape without the kept axes, where nothing
    else reads the reduction r, becomes `r(x, axis, keepdims=False)`: the same reduction in
    the same order, so the same bits.

    A bias's gradient is such a reshape (autograd's sum_to keeps the summed axes, then drops
    them). As a view of the reduction's workspace buffer it was copied into `.grad` every
    step; as the reduction's own result it is a fresh array, handed over as it is.
    """
    uses = _uses(graph)
    producer = {n.out: n for n in graph.nodes}
    squeezed, dropped = {}, set()
    for n in graph.nodes:
        r = producer.get(n.inputs[0]) if n.prim is P.reshape else None
        if (r is None or r.prim.kind != "reduction" or not r.attrs.get("keepdims")
                or uses.get(r.out) != 1):
            continue
        attrs = dict(r.attrs, keepdims=False)
        if same_type(r.prim, r.inputs, attrs, n.out):
            squeezed[id(n)] = Node(r.prim, list(r.inputs), attrs, n.out, n.loc)
            dropped.add(id(r))
    if not squeezed:
        return graph
    nodes = [squeezed.get(id(n), n) for n in graph.nodes if id(n) not in dropped]
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")


def _uses(graph):
    """How many times each value is read; a value leaving the graph counts twice."""
    uses = {}
    for n in graph.nodes:
        for v in n.inputs:
            if isinstance(v, Value):
                uses[v] = uses.get(v, 0) + 1
    for v in list(graph.outputs) + [v for _, v in graph.writes]:
        if isinstance(v, Value):
            uses[v] = uses.get(v, 0) + 2
    return uses


def lower_transposed_matmuls(graph: Graph) -> Graph:
    """`transpose(a @ b)` of 2-D operands, where nothing else reads `a @ b`, becomes
    `b.T @ a.T`: the same matrix, written by BLAS in C order instead of read through a
    transposed view.

    A Linear layer's weight gradient is such a transpose (`x.T @ g` for `weight.t()`, then
    the transpose's gradient): an optimizer loop reading it together with C-ordered
    parameters and state could not take the flat contiguous path and walked the gradient
    with a 1 KB stride (W3's Adam: 0.65-1.1 ms against ~0.1 ms). BLAS reads the transposed
    operands in place; its blocking may round differently, so this runs only in the cpu
    pipeline, not the interpreter.
    """
    uses = {}
    for n in graph.nodes:
        for v in n.inputs:
            if isinstance(v, Value):
                uses[v] = uses.get(v, 0) + 1
    leaving = {v for v in graph.outputs if isinstance(v, Value)} | {v for _, v in graph.writes}
    producer = {n.out: n for n in graph.nodes}
    swapped = {}
    for n in graph.nodes:
        if n.prim is not P.transpose or tuple(n.attrs["perm"]) != (1, 0):
            continue
        m = producer.get(n.inputs[0])
        if (m is None or m.prim is not P.matmul or uses.get(m.out) != 1 or m.out in leaving
                or any(not isinstance(v, Value) or len(v.shape) != 2 for v in m.inputs)):
            continue
        swapped[id(m)] = n
    if not swapped:
        return graph
    dropped = {id(n) for n in swapped.values()}
    nodes = []
    for n in graph.nodes:
        if id(n) in dropped:
            continue
        t = swapped.get(id(n))
        if t is None:
            nodes.append(n)
            continue
        a, b = n.inputs
        at = Value(f"{a.name}_T", a.shape[::-1], a.dtype)
        bt = Value(f"{b.name}_T", b.shape[::-1], b.dtype)
        nodes += [Node(P.transpose, [b], {"perm": (1, 0)}, bt, n.loc),
                  Node(P.transpose, [a], {"perm": (1, 0)}, at, n.loc),
                  Node(P.matmul, [bt, at], {}, t.out, t.loc)]
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")
