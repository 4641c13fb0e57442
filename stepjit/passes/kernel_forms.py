"""Lowering to fusible forms: rewrites that turn an op fusion cannot enter into an
elementwise one computing exactly the same values.

- `x[mask] = c` (index_put of a scalar through a bool mask of x's full shape) is
  `where(mask, c, x)`: the custom-ReLU backward's `grad[input < 0] = 0` then fuses
  with its neighbours instead of running as a separate indexing op.
- a sum of slice_scatters into zeros of disjoint slices along one axis is the concat of the
  pieces (lower_scatter_sums): the backward of `split`/`chunk`.
- `reshape(sum(x, axis, keepdims=True))` that drops the kept axes is `sum(x, axis)`
  (lower_squeezed_reductions): a bias's gradient comes out as the reduction's own array.

The cpu pipeline alone also runs rewrites that are exact in real arithmetic but may round
differently (lower_add_chains, lower_flat_matmuls, lower_transposed_matmuls), and drops an
expand that only elementwise readers read (lower_broadcast_reads): they broadcast anyway.
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


def lower_scatter_sums(graph: Graph) -> Graph:
    """`slice_scatter(0, a, [.., 0:32]) + slice_scatter(0, b, [.., 32:64]) + ...`, an add tree
    whose leaves put pieces into zeros at disjoint slices of one axis, with no other reader of
    its partial sums, becomes `concat([a, b, ...], axis)`, a zero-filled piece for each gap.

    That is the backward of `q, k, v = x.split(e, dim=2)` (each piece's gradient is scattered
    into zeros, then autograd adds them): PyTorch's own SplitBackward is a cat. The adds are
    exact (each element is one piece's value plus zeros) but for the sign of a zero, which the
    concat keeps as PyTorch does: so this runs in the compiled pipelines, not the interpreter.
    """
    uses = _uses(graph)
    producer = {n.out: n for n in graph.nodes}
    replaced, dropped = {}, set()
    for n in reversed(graph.nodes):
        if id(n) in dropped or n.prim is not P.add:
            continue
        inner, leaves = set(), []
        if not _scatter_leaves(n, producer, uses, inner, leaves) or len(leaves) < 2:
            continue
        pieces = _tiling(n.out, leaves, producer)
        if pieces is not None:
            replaced[id(n)] = _concat_pieces(n, *pieces)
            dropped |= inner
    return _rebuilt(graph, replaced, dropped)


def _rebuilt(graph, replaced, dropped):
    """graph with each node whose id is in `replaced` put back as its list of nodes, and
    the nodes whose ids are in `dropped` left out; graph itself when nothing changed."""
    if not replaced:
        return graph
    nodes = []
    for n in graph.nodes:
        if id(n) not in dropped:
            nodes.extend(replaced.get(id(n), [n]))
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")


def _scatter_leaves(n, producer, uses, inner, leaves):
    """Collect the slice_scatter nodes at the leaves of add node n's tree (inner: the ids of
    the adds and scatters it consumes); False when a leaf is anything else."""
    for v in n.inputs:
        p = producer.get(v) if isinstance(v, Value) else None
        if p is None or uses.get(v) != 1 or v.shape != n.out.shape or v.dtype is not n.out.dtype:
            return False
        inner.add(id(p))
        if p.prim is P.slice_scatter:
            leaves.append(p)
        elif p.prim is not P.add or not _scatter_leaves(p, producer, uses, inner, leaves):
            return False
    return True


def _tiling(out, leaves, producer):
    """(axis, [(start, stop, piece or None for zeros)]) covering out's axis in order, when every
    leaf scatters a piece of its own shape and dtype into zeros along one axis, the slices apart;
    else None."""
    axis, spans = None, []
    for s in leaves:
        base, piece = s.inputs
        z = producer.get(base) if isinstance(base, Value) else None
        if (z is None or z.prim is not P.full or z.attrs["value"] != 0 or not isinstance(piece, Value)
                or piece.dtype is not out.dtype):
            return None
        span = _one_axis_slice(s.attrs["key"], out.shape)
        if span is None or (axis is not None and span[0] != axis):
            return None
        axis = span[0]
        if piece.shape != out.shape[:axis] + (span[2] - span[1],) + out.shape[axis + 1:]:
            return None
        spans.append((span[1], span[2], piece))
    spans.sort(key=lambda t: t[0])
    tiles, at = [], 0
    for start, stop, piece in spans:
        if start < at:
            return None     # overlapping slices add up: not a concat
        if start > at:
            tiles.append((at, start, None))
        tiles.append((start, stop, piece))
        at = stop
    if at < out.shape[axis]:
        tiles.append((at, out.shape[axis], None))
    return axis, tiles


def _one_axis_slice(key, shape):
    """(axis, start, stop) when key is a step-1 slice of one axis of shape (the others whole)."""
    if len(key) > len(shape) or not all(isinstance(k, tuple) and len(k) == 3 for k in key):
        return None
    cut = []
    for d, k in enumerate(key):
        start, stop, step = slice(*k).indices(shape[d])
        if step != 1 or stop <= start:
            return None
        if (start, stop) != (0, shape[d]):
            cut.append((d, start, stop))
    return cut[0] if len(cut) == 1 else None


def _concat_pieces(n, axis, tiles):
    out, nodes, parts = n.out, [], []
    for k, (start, stop, piece) in enumerate(tiles):
        if piece is None:
            shape = out.shape[:axis] + (stop - start,) + out.shape[axis + 1:]
            piece = Value(f"{out.name}_zeros{k}", shape, out.dtype)
            nodes.append(Node(P.full, [], {"shape": shape, "value": 0.0, "dtype": out.dtype},
                              piece, n.loc))
        parts.append(piece)
    return nodes + [Node(P.concat, parts, {"axis": axis}, out, n.loc)]


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


def lower_flat_matmuls(graph: Graph) -> Graph:
    """Batched matmuls that are one 2-D matrix product become that product, over reshapes:

    - `a @ w` with `a` of shape (..., m, k) and a 2-D `w` (a Linear layer on a (batch, time,
      features) input, and its input gradient) is `reshape(reshape(a, (M, k)) @ w, (..., m, n))`,
      M the product of a's leading dimensions;
    - `sum(transpose(x) @ g, batch axes)`, the batched `x_b.T @ g_b` summed over every batch
      dimension (that Linear layer's weight gradient: autograd's batched product, then sum_to
      the weight's shape) is `reshape(x, (M, k)).T @ reshape(g, (M, n))`: one product whose
      inner dimension runs over the batch too.

    Both reshapes are views of C-ordered operands, so one BLAS call does what NumPy's batched
    loop (m x k by k x n, once per batch element) and a separate reduction did, and a native
    program (codegen/native_program.py) gets 2-D matmuls only. The sum over the batch is
    accumulated inside the product: the same value in real arithmetic, rounded differently
    (cpu pipeline only, like lower_transposed_matmuls, which runs after this one and turns the
    weight gradient's transpose into the C-ordered product).
    """
    uses = _uses(graph)
    producer = {n.out: n for n in graph.nodes}
    replaced, dropped = {}, set()
    for n in graph.nodes:
        if n.prim is P.matmul and _leading_by_matrix(n):
            replaced[id(n)] = _flat_product(n)
        elif n.prim is P.sum:
            m = producer.get(n.inputs[0])
            x = _batched_transposed_product(n, m, producer, uses)
            if x is not None:
                replaced[id(n)] = _summed_product(n, x, m.inputs[1])
                dropped.add(id(m))
    return _rebuilt(graph, replaced, dropped)


def _leading_by_matrix(n):
    a, w = n.inputs
    return (isinstance(a, Value) and isinstance(w, Value) and a.ndim >= 3 and w.ndim == 2
            and n.out.shape == a.shape[:-1] + w.shape[1:])


def _flat_product(n):
    """`a @ w` as reshape(reshape(a, (M, k)) @ w, out shape)."""
    a, w = n.inputs
    rows = a.shape[-2]
    for d in a.shape[:-2]:
        rows *= d
    a2 = Value(f"{a.name}_rows", (rows, a.shape[-1]), a.dtype)
    o2 = Value(f"{n.out.name}_rows", (rows, w.shape[1]), n.out.dtype)
    return [Node(P.reshape, [a], {"shape": a2.shape}, a2, n.loc),
            Node(P.matmul, [a2, w], {}, o2, n.loc),
            Node(P.reshape, [o2], {"shape": n.out.shape}, n.out, n.loc)]


def _batched_transposed_product(s, m, producer, uses):
    """x when sum node s is sum(transpose(x) @ g) over every batch axis of a matmul m, of
    operands with the same batch dimensions (no broadcasting), read by nothing else; else None."""
    if (m is None or m.prim is not P.matmul or uses.get(m.out) != 1 or s.attrs["keepdims"]
            or s.out.dtype is not m.out.dtype):
        return None
    a, g = m.inputs
    if not (isinstance(a, Value) and isinstance(g, Value)) or a.ndim < 3 or g.ndim != a.ndim:
        return None
    batch = a.ndim - 2
    axis = s.attrs["axis"]      # (None: a sum of every element, `(a @ g).sum()`)
    if axis is None or tuple(axis) != tuple(range(batch)) or a.shape[:batch] != g.shape[:batch]:
        return None
    t = producer.get(a)
    swap = tuple(range(batch)) + (batch + 1, batch)
    if t is None or t.prim is not P.transpose or tuple(t.attrs["perm"]) != swap:
        return None
    return t.inputs[0]


def _summed_product(s, x, g):
    """The nodes computing sum node s as reshape(x, (M, k)).T @ reshape(g, (M, n))."""
    rows = g.shape[-2]
    for d in g.shape[:-2]:
        rows *= d
    x2 = Value(f"{x.name}_rows", (rows, x.shape[-1]), x.dtype)
    xt = Value(f"{x.name}_rows_T", (x.shape[-1], rows), x.dtype)
    g2 = Value(f"{g.name}_rows", (rows, g.shape[-1]), g.dtype)
    return [Node(P.reshape, [x], {"shape": x2.shape}, x2, s.loc),
            Node(P.transpose, [x2], {"perm": (1, 0)}, xt, s.loc),
            Node(P.reshape, [g], {"shape": g2.shape}, g2, s.loc),
            Node(P.matmul, [xt, g2], {}, s.out, s.loc)]


def lower_broadcast_reads(graph: Graph) -> Graph:
    """An `expand` read only by elementwise ops, each of which gives the same result shape from
    the unexpanded value (another operand, or the op's own shape, has the expanded size), is
    dropped: they read its input with broadcasting, the same values.

    Autograd writes a broadcast gradient out as an expand (LayerNorm's and softmax's backward:
    a row sum of shape (..., 1), expanded, then multiplied): its reader is a loop that reads
    broadcast inputs anyway, and the expand, a view between two loops, was an op of its own
    (np.broadcast_to, ~4 us a call in a straight-line program).
    """
    readers = {}
    for n in graph.nodes:
        for v in n.inputs:
            if isinstance(v, Value):
                readers.setdefault(v, []).append(n)
    leaving = {v for v in graph.outputs if isinstance(v, Value)} | {v for _, v in graph.writes}
    dropped = {}
    for n in graph.nodes:
        if n.prim is not P.expand or not isinstance(n.inputs[0], Value) or n.out in leaving:
            continue
        # checked with the expands dropped so far: two operands that both broadcast may not
        # make the reader's shape once neither is expanded
        trial = dict(dropped)
        trial[n.out] = n.inputs[0]
        if all(_reads_broadcast(r, trial) for r in readers.get(n.out, ())):
            dropped = trial
    if not dropped:
        return graph
    nodes = []
    for n in graph.nodes:
        if n.out in dropped:
            continue
        if any(isinstance(v, Value) and v in dropped for v in n.inputs):
            n = Node(n.prim, [dropped.get(v, v) if isinstance(v, Value) else v for v in n.inputs],
                     dict(n.attrs), n.out, n.loc)
        nodes.append(n)
    return Graph(graph.name, list(graph.inputs), list(graph.lifted), nodes, list(graph.outputs),
                 list(graph.writes), stage="lowered")


def _reads_broadcast(reader, dropped):
    """Whether elementwise `reader` gives its own result reading the inputs of the expands in
    `dropped` (expanded value -> its input) in their place."""
    if reader.prim.kind != "elementwise" or reader.prim.expr is None:
        return False
    inputs = [dropped.get(v, v) if isinstance(v, Value) else v for v in reader.inputs]
    return same_type(reader.prim, inputs, reader.attrs, reader.out)
