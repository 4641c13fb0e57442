"""Fusion's cost grows with the graph, not with its square: counted, not timed.

An unrolled RNN step by step (input projection with a shared bias, recurrence through a
matmul, tanh) and its backward (each step's gradient reads that step's forward value), the
shape of graph whose fusion once took 90 s at 80 LSTM steps: every merge searched the whole
group graph. `GroupDag.visits` counts the groups fusion's bookkeeping and cycle checks look
at; per node it must not grow with the number of steps.
"""
import random

import pytest

from stepjit.passes.fusion import SIBLING_LIMIT, fuse
from stepjit.passes.group_dag import GroupDag

from .helpers import Builder


def unrolled_rnn(steps, batch=4, hidden=8):
    b = Builder()
    wx, wh = b.lifted("wx", (hidden, hidden)), b.lifted("wh", (hidden, hidden))
    bias = b.lifted("bias", (hidden,))
    xs = [b.input(f"x{t}", (batch, hidden)) for t in range(steps)]
    h, hs = b.input("h0", (batch, hidden)), []
    for x in xs:
        pre = b("add", b("add", b("matmul", x, wx), bias), b("matmul", h, wh))
        h = b("tanh", pre)
        hs.append(h)
    g, gw = b("mul", h, 2.0), None
    for h in reversed(hs):   # d tanh: g * (1 - h * h), then back through wh
        gpre = b("mul", g, b("sub", 1.0, b("mul", h, h)))
        gw = gpre if gw is None else b("add", gw, gpre)
        g = b("matmul", gpre, wh)
    return b.done(b("sum", g, axis=None, keepdims=False), writes=[("@bias", b("sum", gw, axis=(0,),
                                                                            keepdims=False))])


def fusion_visits(graph):
    dag = GroupDag()
    fused = fuse(graph, dag=dag)
    return dag.visits, fused


def test_fusion_work_per_node_does_not_grow_with_the_unrolled_length():
    per_node = {}
    for steps in (25, 100):
        graph = unrolled_rnn(steps)
        visits, _ = fusion_visits(graph)
        per_node[steps] = visits / len(graph.nodes)
    # linear: the same per node (quadratic was ~4x from 25 to 100 steps, the old search ~16x)
    assert per_node[100] <= 1.25 * per_node[25] + 0.5, per_node


def test_siblings_sharing_a_bias_form_bounded_loops():
    """The bias adds of 100 steps share only `bias`: they fuse in loops of SIBLING_LIMIT,
    which are alike (one kernel), not in one loop with a hundred inputs and outputs."""
    _, fused = fusion_visits(unrolled_rnn(100))
    loops = [g for g in fused.groups if g.kind == "loop"]
    assert max(len(g.nodes) for g in loops) <= 2 * SIBLING_LIMIT
    assert max(len(g.inputs) for g in loops) <= 2 * SIBLING_LIMIT + 2


def _brute_reaches(groups, group_of):
    """{(src, dst)}: dst reads a value of src, transitively, by a search from every group."""
    preds = {g: {group_of[v] for n in g.nodes for v in n.inputs
                 if v in group_of and group_of[v] is not g} for g in groups}
    out = set()
    for dst in groups:
        stack, seen = list(preds[dst]), set()
        while stack:
            g = stack.pop()
            if g not in seen:
                seen.add(g)
                stack.extend(preds[g])
        out.update((src, dst) for src in seen)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_group_graph_reachability_matches_a_search(seed):
    """On random graphs of elementwise ops and matmuls (merges, sibling merges, absorbed
    groups), what the group graph says reaches what equals a search over the final groups."""
    rng = random.Random(seed)
    b = Builder()
    values = [b.input(f"x{i}", (3, 3)) for i in range(3)]
    for _ in range(rng.randrange(10, 60)):
        a, c = rng.choice(values), rng.choice(values)
        op = rng.choice(("add", "mul", "sub", "tanh", "exp", "matmul"))
        values.append(b(op, a) if op in ("tanh", "exp") else b(op, a, c))
    graph = b.done(*values[-3:])
    dag = GroupDag()
    fused = fuse(graph, dag=dag)
    groups = list(dag.bits)
    group_of = {n.out: g for g in groups for n in g.nodes}
    expected = _brute_reaches(groups, group_of)
    got = {(s, d) for s in groups for d in groups if s is not d and dag.reaches(s, d)}
    assert got == expected
    assert {id(g) for g in fused.groups} <= {id(g) for g in groups}
