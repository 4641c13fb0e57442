"""Elementwise fusion: partition a graph into groups that run as one kernel each.

A *loop* group is a set of elementwise nodes over one iteration shape, plus
reductions of values of that shape (producers fused into reductions). Its
inputs are read with broadcasting, its *outputs* are the values someone
outside the group needs (multi-output groups: one loop writes several
results). Every other node is an *op* group of its own: matmul (BLAS), views
(reshape, transpose, expand, slice: free NumPy views), indexing and creation.

Values produced by `full` (and views of them) are *constants*: loops inline
them as literals instead of reading a buffer, so a backward pass's seed
`ones -> reshape -> expand` costs nothing. Likewise values computed from
constants and sizes (`numel`, a mean's divisor) by elementwise ops, and their
views: a mean's backward seed `1 / n -> reshape -> expand`. Loops inline their
expression, reading only the 0-d sizes, so the seed joins the loop that uses it
(and the kernel's source holds no size: a new batch size compiles nothing).
Such values are not placed in any loop group, so they order nothing.

Rules. A node joins the group of one of its producers when (1) it is
elementwise, or a fusible reduction of a value of the group's iteration
shape, (2) its output (for elementwise) has the group's iteration shape, (3)
the group has no reduction the node depends on, (4) the merge keeps the
group graph acyclic (no input of the node is computed by a group that itself
depends on the target group), and (5) a group the node only shares an input with (a
sibling, not a producer) has fewer than SIBLING_LIMIT nodes, and that input has more than
one element. Groups are then ordered topologically.

Siblings share a read of their common input; a scalar (a learning rate, a mean's divisor)
costs nothing to read twice. Joined through one, the AdamW updates of a transformer's
same-shaped parameters became loops of two, three or four parameters' updates, a kernel for
each combination (W8: 7 of its 40 kernels, 446 of their 1031 lines); apart, every parameter of
a rank is updated by one kernel, called once per parameter.

Every step is near-linear in the graph: the group graph and each group's ancestors are kept
as groups grow (passes/group_dag.py), so the cycle check of rule (4) is a bitset test, not a
search, and an absorbed group's readers are found through the values it read, not by
scanning every group.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..ir.graph import Graph, Node, Value
from .group_dag import GroupDag


# A node joins a group it only shares an input with (a sibling, not a producer) while the group
# has fewer nodes than this. Without a bound, the input projections `x[t] @ W + b` of every
# step of an unrolled RNN share `b` and became one loop with T inputs and T outputs: a new
# kernel for every T, which Numba compiled in time superlinear in T (13 s at T = 80). Bounded,
# they are loops of 32, alike, so one kernel serves them all.
SIBLING_LIMIT = 32


@dataclass(eq=False)
class Group:
    kind: str                      # "loop" | "op"
    nodes: list = field(default_factory=list)
    shape: tuple = ()              # iteration shape of a loop group
    inputs: list = field(default_factory=list)    # Values read from outside (arrays)
    outputs: list = field(default_factory=list)   # Values materialized by the group
    has_reduction: bool = False
    order: int = 0                 # creation order: earlier groups are preferred merge targets

    @property
    def name(self) -> str:
        return self.nodes[0].prim.name if self.kind == "op" else "loop"


@dataclass
class FusedGraph:
    graph: Graph
    groups: list
    constants: dict               # Value -> what loops inline (constant_values)

    def __str__(self) -> str:
        from .fusion_print import print_fused
        return print_fused(self)


def is_fusible_elementwise(node) -> bool:
    return node.prim.kind == "elementwise" and node.prim.expr is not None


def is_fusible_reduction(node) -> bool:
    """A reduction the generated loops compute (its registry entry says how it combines)."""
    return node.prim.reduce is not None and node.inputs[0].dtype.category != 0


def constant_values(graph) -> dict:
    """Value -> what a loop reads in its place: a Python scalar for a value that holds one
    number everywhere (full and its views); the Node computing it for a value computed from
    such numbers and sizes by fusible elementwise ops (and its views); the size Value itself
    for a view of a size. Sizes (`numel`) are not in it: loops read them as 0-d inputs."""
    consts, sizes = {}, set()
    for n in graph.nodes:
        if n.prim.lowering == "fill":
            consts[n.out] = n.attrs["value"]
        elif n.prim.lowering == "size":
            sizes.add(n.out)
        elif n.prim.view and isinstance(n.inputs[0], Value) and (n.inputs[0] in consts
                                                                 or n.inputs[0] in sizes):
            consts[n.out] = consts.get(n.inputs[0], n.inputs[0])
        elif is_fusible_elementwise(n) and any(isinstance(x, Value) for x in n.inputs) and all(
                x in consts or x in sizes for x in n.inputs if isinstance(x, Value)):
            consts[n.out] = n
    return consts


def is_expression(v, consts) -> bool:
    """Is v a value loops compute inline from sizes (constant_values), not a literal?"""
    return isinstance(consts.get(v), (Node, Value))


def size_leaves(v, consts) -> list:
    """The sizes an inlined value is computed from: what a loop reading it takes as inputs."""
    c = consts.get(v)
    if isinstance(c, Value):
        return [c]
    if isinstance(c, Node):
        return [s for x in c.inputs if isinstance(x, Value) for s in size_leaves(x, consts)]
    return [] if v in consts else [v]


def _needed_outside(graph) -> set:
    """Outputs, writes, and checks' flags (the program tests them: registry `check`)."""
    keep = set(v for v in graph.outputs if isinstance(v, Value))
    keep.update(v for _, v in graph.writes)
    keep.update(n.out for n in graph.nodes if n.prim.check)
    return keep


def fuse(graph: Graph, materialize_all: bool = False, dag: GroupDag | None = None) -> FusedGraph:
    """materialize_all: every node of a loop group is also an output of its kernel (check mode
    reads every value the program computes, stepjit/programs/check.py). `dag`: the group graph
    to build into (a test reads how many groups its searches visited)."""
    consts = constant_values(graph)
    dag = GroupDag() if dag is None else dag
    group_of = {}       # Value -> Group that computes it
    readers = {}        # Value -> loop groups reading it (for sibling fusion)
    groups = []
    absorbed = []
    consumed = {v for n in graph.nodes for v in n.inputs if isinstance(v, Value)}
    keep = _needed_outside(graph)
    for node in graph.nodes:
        # (an inlined expression gets an op group of its own, dropped unless a non-loop reads it)
        expression = is_expression(node.out, consts)
        target = None if expression else _merge_target(node, group_of, readers, consts, dag)
        if target is None and node.prim.lowering == "fill" and node.out in keep and node.out not in consumed:
            target = _constant_write_target(node, groups)
        if target is None:
            kind = "loop" if (not expression and (is_fusible_elementwise(node)
                                                  or is_fusible_reduction(node))) else "op"
            shape = node.inputs[0].shape if kind == "loop" and is_fusible_reduction(node) else node.out.shape
            target = Group(kind, shape=shape, order=len(groups) + len(absorbed))
            groups.append(target)
            dag.add_group(target)
        else:
            for other in _absorbable(node, target, group_of, consts, dag):
                _absorb(target, other, group_of, readers, groups, dag)
                absorbed.append(other)
        target.nodes.append(node)
        if is_fusible_reduction(node):
            target.has_reduction = True
        group_of[node.out] = target
        for v in node.inputs:
            if isinstance(v, Value) and v in group_of:
                dag.add_edge(group_of[v], target)
        if target.kind == "loop":
            for v in node.inputs:
                if isinstance(v, Value):
                    readers.setdefault(v, []).append(target)
    order = {id(n): i for i, n in enumerate(graph.nodes)}
    for g in groups:
        g.nodes.sort(key=lambda n: order[id(n)])
    _wire(graph, groups, group_of, consts, materialize_all)
    groups = _live(graph, groups, group_of, consts)
    return FusedGraph(graph, _toposort(groups, group_of), consts)


def _merge_target(node, group_of, readers, consts, dag):
    """A loop group the node can join: one of its producers', or a sibling reading the same input."""
    fusible_red = is_fusible_reduction(node)
    if not (is_fusible_elementwise(node) or fusible_red):
        return None
    shape = node.inputs[0].shape if fusible_red else node.out.shape
    input_groups = _input_groups(node, group_of, consts)
    candidates = list(input_groups)
    for v in node.inputs:
        if isinstance(v, Value) and math.prod(v.shape) > 1:     # (rule 5: not a scalar)
            candidates.extend(readers.get(v, ()))
    candidates = [g for g in sorted(candidates, key=lambda g: g.order)
                  if g.kind == "loop" and g.shape == shape
                  and (g in input_groups or len(g.nodes) < SIBLING_LIMIT)
                  and not (g.has_reduction and _depends_on_reduction(node, g, group_of))]
    # g must not reach one of the node's inputs' groups (the node needs a value computed after
    # g): merging would make a cycle
    before = dag.read_by_any(input_groups) if candidates else 0
    return next((g for g in candidates if not before & dag.bits[g]), None)


def _constant_write_target(node, groups):
    """A `full` that only overwrites a tensor (`w.grad.zero_()` after the update) is written by
    the latest loop over the same shape instead of as a pass of its own."""
    for g in reversed(groups):
        if g.kind == "loop" and g.shape == node.out.shape:
            return g
    return None


def _input_groups(node, group_of, consts):
    return list({id(group_of[v]): group_of[v] for v in node.inputs
                 if isinstance(v, Value) and v in group_of and v not in consts}.values())


def _absorbable(node, target, group_of, consts, dag):
    """Other loop producers of the node that can become part of target (one loop, not two)."""
    out = []
    for h in _input_groups(node, group_of, consts):
        if h is target or h.kind != "loop" or h.shape != target.shape or h.has_reduction:
            continue
        if dag.reaches_via_other(h, target) or dag.reaches_via_other(target, h):
            continue
        out.append(h)
    return out


def _absorb(target, other, group_of, readers, groups, dag):
    target.nodes.extend(other.nodes)
    for n in other.nodes:
        group_of[n.out] = target
    for v in {v for n in other.nodes for v in n.inputs if isinstance(v, Value)}:
        lst = readers.get(v, ())
        for i, g in enumerate(lst):
            if g is other:
                lst[i] = target
    groups.remove(other)
    dag.merge(other, target)


def _depends_on_reduction(node, g, group_of):
    reduced = {n.out for n in g.nodes if is_fusible_reduction(n)}
    return any(isinstance(v, Value) and v in reduced for v in node.inputs)


def _wire(graph, groups, group_of, consts, materialize_all=False):
    keep = _needed_outside(graph)
    users = {}
    for g in groups:
        for n in g.nodes:
            for v in n.inputs:
                if isinstance(v, Value):
                    users.setdefault(v, set()).add(id(g))
    for g in groups:
        inside = {n.out for n in g.nodes}
        seen = set()
        for n in g.nodes:
            for v in n.inputs:
                if isinstance(v, Value) and v not in inside and v not in seen:
                    if g.kind == "loop" and v in consts:
                        for leaf in size_leaves(v, consts):   # the sizes it is computed from
                            if leaf not in seen:
                                seen.add(leaf)
                                g.inputs.append(leaf)
                        continue
                    seen.add(v)
                    g.inputs.append(v)
        g.outputs = [n.out for n in g.nodes
                     if n.out in keep or users.get(n.out, set()) - {id(g)}
                     or (g.kind == "op") or materialize_all]


def _live(graph, groups, group_of, consts):
    """Drop groups that only compute constants no kernel needs as a buffer: loops inline them."""
    keep = _needed_outside(graph)
    needed = {id(g) for g in groups if g.kind == "loop" or g.nodes[0].out not in consts
              or g.nodes[0].out in keep}
    stack = [g for g in groups if id(g) in needed]
    while stack:
        for v in stack.pop().inputs:
            p = group_of.get(v)
            if p is not None and id(p) not in needed:
                needed.add(id(p))
                stack.append(p)
    return [g for g in groups if id(g) in needed]


def _toposort(groups, group_of):
    """Groups in dependency order: a depth-first post-order from each group in turn (with an
    explicit stack: an unrolled loop's chain of groups is deeper than Python's recursion)."""
    order, state = [], {}

    def producers(g):
        return (group_of[v] for v in g.inputs if v in group_of and group_of[v] is not g)

    for root in groups:
        if id(root) in state:
            continue
        state[id(root)] = 1
        stack = [(root, producers(root))]
        while stack:
            g, pending = stack[-1]
            for p in pending:
                if state.get(id(p)) == 1:
                    raise AssertionError("fusion produced a cyclic group graph")
                if id(p) not in state:
                    state[id(p)] = 1
                    stack.append((p, producers(p)))
                    break
            else:
                stack.pop()
                state[id(g)] = 2
                order.append(g)
    return order
