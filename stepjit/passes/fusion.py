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
the group has no reduction the node depends on, and (4) the merge keeps the
group graph acyclic (no input of the node is computed by a group that itself
depends on the target group). Groups are then ordered topologically.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.graph import Graph, Node, Value


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


def fuse(graph: Graph, materialize_all: bool = False) -> FusedGraph:
    """materialize_all: every node of a loop group is also an output of its kernel (check mode
    reads every value the program computes, stepjit/programs/check.py)."""
    consts = constant_values(graph)
    group_of = {}       # Value -> Group that computes it
    readers = {}        # Value -> loop groups reading it (for sibling fusion)
    groups = []
    absorbed = []
    consumed = {v for n in graph.nodes for v in n.inputs if isinstance(v, Value)}
    keep = _needed_outside(graph)
    for node in graph.nodes:
        # (an inlined expression gets an op group of its own, dropped unless a non-loop reads it)
        expression = is_expression(node.out, consts)
        target = None if expression else _merge_target(node, group_of, readers, consts)
        if target is None and node.prim.lowering == "fill" and node.out in keep and node.out not in consumed:
            target = _constant_write_target(node, groups)
        if target is None:
            kind = "loop" if (not expression and (is_fusible_elementwise(node)
                                                  or is_fusible_reduction(node))) else "op"
            shape = node.inputs[0].shape if kind == "loop" and is_fusible_reduction(node) else node.out.shape
            target = Group(kind, shape=shape, order=len(groups) + len(absorbed))
            groups.append(target)
        else:
            for other in _absorbable(node, target, group_of, consts):
                _absorb(target, other, group_of, readers, groups)
                absorbed.append(other)
        target.nodes.append(node)
        if is_fusible_reduction(node):
            target.has_reduction = True
        group_of[node.out] = target
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


def _merge_target(node, group_of, readers, consts):
    """A loop group the node can join: one of its producers', or a sibling reading the same input."""
    fusible_red = is_fusible_reduction(node)
    if not (is_fusible_elementwise(node) or fusible_red):
        return None
    shape = node.inputs[0].shape if fusible_red else node.out.shape
    input_groups = _input_groups(node, group_of, consts)
    candidates = list(input_groups)
    for v in node.inputs:
        if isinstance(v, Value):
            candidates.extend(readers.get(v, ()))
    for g in sorted(candidates, key=lambda g: g.order):
        if g.kind != "loop" or g.shape != shape:
            continue
        if g.has_reduction and _depends_on_reduction(node, g, group_of):
            continue
        if any(h is not g and _reaches(g, h, group_of) for h in input_groups):
            continue  # the node needs a value computed after g: merging would create a cycle
        return g
    return None


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


def _absorbable(node, target, group_of, consts):
    """Other loop producers of the node that can become part of target (one loop, not two)."""
    out = []
    for h in _input_groups(node, group_of, consts):
        if h is target or h.kind != "loop" or h.shape != target.shape or h.has_reduction:
            continue
        if _reaches_via_other(h, target, group_of) or _reaches_via_other(target, h, group_of):
            continue
        out.append(h)
    return out


def _absorb(target, other, group_of, readers, groups):
    target.nodes.extend(other.nodes)
    for n in other.nodes:
        group_of[n.out] = target
    for lst in readers.values():
        for i, g in enumerate(lst):
            if g is other:
                lst[i] = target
    groups.remove(other)


def _consumers(src, group_of):
    seen = {}
    for v, g in group_of.items():
        if g is src:
            continue
        for n in g.nodes:
            if any(isinstance(x, Value) and group_of.get(x) is src for x in n.inputs):
                seen[id(g)] = g
    return seen.values()


def _reaches_via_other(a, b, group_of):
    """Is there a path a -> X -> ... -> b through some group X other than a and b?"""
    return any(x is not b and _reaches(x, b, group_of) for x in _consumers(a, group_of))


def _depends_on_reduction(node, g, group_of):
    reduced = {n.out for n in g.nodes if is_fusible_reduction(n)}
    return any(isinstance(v, Value) and v in reduced for v in node.inputs)


def _reaches(src, dst, group_of):
    """Does group dst (transitively) consume a value of group src?"""
    seen, stack = set(), [dst]
    while stack:
        g = stack.pop()
        if g is src:
            return True
        if id(g) in seen:
            continue
        seen.add(id(g))
        for n in g.nodes:
            for v in n.inputs:
                if isinstance(v, Value) and v in group_of and group_of[v] is not g:
                    stack.append(group_of[v])
    return False


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
    changed = True
    while changed:
        changed = False
        for g in groups:
            if id(g) not in needed:
                continue
            for v in g.inputs:
                p = group_of.get(v)
                if p is not None and id(p) not in needed:
                    needed.add(id(p))
                    changed = True
    return [g for g in groups if id(g) in needed]


def _toposort(groups, group_of):
    order, state = [], {}

    def visit(g):
        if state.get(id(g)) == 2:
            return
        if state.get(id(g)) == 1:
            raise AssertionError("fusion produced a cyclic group graph")
        state[id(g)] = 1
        for v in g.inputs:
            if v in group_of and group_of[v] is not g:
                visit(group_of[v])
        state[id(g)] = 2
        order.append(g)

    for g in groups:
        visit(g)
    return order
