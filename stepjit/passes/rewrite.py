"""What the optimization passes share: purity, structural keys, and rebuilding a Graph.

Passes are pure: they never mutate the Graph they get or its Nodes. A pass
walks the old nodes and emits new Node objects into a new Graph; a value it
removes is mapped (in `subst`) to the Value that replaces it. Values are
immutable data, so a rewritten node keeps its old output Value (same name,
same type) and the new Graph may share Values with the old one.

Two rules every replacement obeys, beyond computing the same numbers:
  - a Value that escapes (a graph output or a write) is never replaced by a
    graph input or by another escaping Value: the runtime would then hand out
    one buffer where eager made two (two `.grad`s aliasing, an output that is
    the caller's own argument);
  - the replacement has exactly the replaced Value's shape and dtype.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.types import DType
from ..ir.verifier import infer_aval

def is_pure(prim) -> bool:
    """True when evaluating `prim` twice on the same operands gives the same value
    and has no other effect (safe to merge, fold, drop when unused): the registry entry's
    `pure`. The one place the passes ask this question."""
    return prim.pure


# -- structural keys ----------------------------------------------------------------
def data_key(x):
    """A hashable key that tells apart what compares equal in Python but not in the IR:
    1, 1.0 and True; 0.0 and -0.0; and makes nan equal to itself."""
    if isinstance(x, Value):
        return ("v", id(x))
    if isinstance(x, (bool, np.bool_)):
        return ("b", bool(x))
    if isinstance(x, (int, np.integer)):
        return ("i", int(x))
    if isinstance(x, (float, np.floating)):
        return ("f", float(x).hex())
    if isinstance(x, DType):
        return ("dt", x.name)
    if x is None or isinstance(x, str):
        return ("s", x)
    if isinstance(x, tuple):
        return ("t",) + tuple(data_key(v) for v in x)
    if isinstance(x, list):
        return ("l",) + tuple(data_key(v) for v in x)
    raise TypeError(f"no structural key for {x!r}")


def node_key(prim, inputs, attrs, out: Value):
    return (prim.name, tuple(data_key(x) for x in inputs),
            tuple((k, data_key(attrs[k])) for k in sorted(attrs)), out.shape, out.dtype.name)


# -- typing -------------------------------------------------------------------------
def same_type(prim, inputs, attrs, out: Value) -> bool:
    """Does prim(inputs, attrs) have exactly out's shape and dtype (by its shape rule)?"""
    try:
        aval = infer_aval(prim, inputs, attrs)
    except Exception:
        return False
    return aval.dtype is out.dtype and aval.shape is not None and tuple(aval.shape) == out.shape


# -- rebuilding ---------------------------------------------------------------------
def clone(node: Node, inputs=None, prim=None, attrs=None) -> Node:
    """A new Node like `node` (same output Value, same Loc), optionally changed."""
    return Node(node.prim if prim is None else prim,
                node.inputs if inputs is None else inputs,
                node.attrs if attrs is None else attrs,
                node.out, node.loc)


def resolve(subst: dict, x):
    """Follow replacements: the Value (or literal) now standing for x."""
    while isinstance(x, Value) and x in subst:
        x = subst[x]
    return x


def escaping(graph: Graph) -> set:
    return {v for v in graph.outputs if isinstance(v, Value)} | {v for _, v in graph.writes}


def may_replace(v: Value, u, escapes: set, graph_inputs: set) -> bool:
    """May every use of v (including as output or write) become u? Records u as escaping."""
    if not isinstance(u, Value) or u.shape != v.shape or u.dtype is not v.dtype:
        return False
    if v in escapes:
        if u in escapes or u in graph_inputs:
            return False
        escapes.add(u)
    return True


def rebuild(graph: Graph, nodes: list, subst: dict, stage: str) -> Graph:
    """A new Graph with `nodes`, outputs and writes renamed through `subst`."""
    return Graph(name=graph.name, inputs=list(graph.inputs), lifted=list(graph.lifted),
                 nodes=nodes,
                 outputs=[resolve(subst, v) for v in graph.outputs],
                 writes=[(label, resolve(subst, v)) for label, v in graph.writes],
                 stage=stage)
