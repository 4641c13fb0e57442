"""Constant folding: values computable before the step runs become `full` nodes.

A node is constant when it is pure and every operand is a literal or a constant
value; `full` and `arange` start the chains. The IR holds no array constants
and this pass adds none: a constant is folded only when it is *uniform* (every
element the same bits), into `full {shape, value, dtype}`; a non-uniform one
keeps its nodes.

Exactness. The compiled step is compared bit for bit with eager, so a folded
value must have exactly the bits the interpreter computes:
  - a small constant (<= LIMIT elements) is evaluated by replaying its nodes
    with `ir.impl.run_impl`, on the same operands in the same memory layout,
    i.e. the very computation the interpreter does;
  - a large one is only followed through ops whose result per element cannot
    depend on size, layout or vector width (elementwise ops whose registry entry
    says `exact`: correctly rounded or exact in IEEE arithmetic; ops that say
    `keeps_uniform`: movement ops, amax/amin), evaluated
    on one element. Anything else (exp, pow, sum of 10^4 ones...) stops it.

Layout. A `full` is a fresh C-contiguous array, where the original value may
have been a broadcast view (`expand` of the root gradient). Numbers from
matmul and sum can depend on their operands' layout (BLAS or not, summation
order), so a value is replaced by a `full` only when every node still reading
it is an `exact` elementwise op, whose per-element result cannot.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..ir.impl import run_impl
from ..ir import primitives as P
from ..ir.graph import Graph, Node, Value
from ..ir.types import AVal
from .rewrite import clone, escaping, is_pure, rebuild

LIMIT = 64          # constants up to this many elements are evaluated exactly, node by node

def exact_elementwise(node: Node) -> bool:
    """Is node's value, element by element, independent of its operands' size and layout?
    (the registry entry's `exact`)."""
    return node.prim.kind == "elementwise" and node.prim.is_exact(node)


@dataclass
class Const:
    scalar: object = None    # NumPy scalar of the value's dtype when uniform, else None
    array: object = None     # the exact value, when small, else None


def uniform(array):
    """The one element of `array` when all elements have the same bits, else None."""
    if array.size == 0:
        return None
    flat = np.ascontiguousarray(array).reshape(-1)
    raw = flat.view(np.uint8).reshape(flat.size, -1)
    return flat[0] if (raw == raw[0]).all() else None


def _size(shape) -> int:
    return math.prod(shape)


def _evaluate(node: Node, consts: dict):
    """Const for node's value, or None when it is not (cheaply and exactly) known."""
    prim, out = node.prim, node.out
    if not is_pure(prim) or prim.lowering == "size":   # (a size stays a value of the program)
        return None
    if any(isinstance(x, Value) and x not in consts for x in node.inputs):
        return None
    aval = AVal(out.shape, out.dtype)
    operands = [consts[x] if isinstance(x, Value) else x for x in node.inputs]
    if _size(out.shape) <= LIMIT and all(not isinstance(c, Const) or c.array is not None
                                         for c in operands):
        with np.errstate(all="ignore"):
            array = run_impl(prim, [c.array if isinstance(c, Const) else c for c in operands],
                             node.attrs, aval)
        return Const(uniform(array), array)
    scalars = [c.scalar if isinstance(c, Const) else c for c in operands]
    if any(s is None for s in scalars):
        return None
    if prim is P.full:
        return Const(np.full((1,), node.attrs["value"], out.dtype.np)[0])
    # (a reduction of no elements has no element to keep)
    if prim.keeps_uniform and (prim.kind != "reduction" or _size(node.inputs[0].shape) > 0):
        return Const(scalars[0])
    if exact_elementwise(node):
        ones = [np.full((1,), s) if isinstance(c, Const) else s for s, c in zip(scalars, operands)]
        with np.errstate(all="ignore"):
            return Const(run_impl(prim, ones, node.attrs, AVal((1,), out.dtype))[0])
    return None


def constants(graph: Graph) -> dict:
    """Value -> Const for every constant value of `graph`."""
    consts = {}
    for node in graph.nodes:
        c = _evaluate(node, consts)
        if c is not None:
            consts[node.out] = c
    return consts


def _users(graph: Graph) -> dict:
    users = {}
    for node in graph.nodes:
        for x in node.inputs:
            if isinstance(x, Value):
                users.setdefault(x, []).append(node)
    return users


def as_full(value: Value, scalar, loc) -> Node:
    return Node(P.full, [], {"shape": value.shape, "value": scalar.item(), "dtype": value.dtype},
                value, loc)


def fold(graph: Graph) -> Graph:
    consts, users, escapes = constants(graph), _users(graph), escaping(graph)
    # Walk backwards deciding, per node, whether its original computation still runs
    # ("keep"), is replaced by a full ("full"), or no longer feeds anything ("dead").
    status = {}
    for node in reversed(graph.nodes):
        active = [u for u in users.get(node.out, ()) if status[u.out] == "keep"]
        c = consts.get(node.out)
        if not active and node.out not in escapes and is_pure(node.prim):
            status[node.out] = "dead"
        elif (c is not None and c.scalar is not None and node.prim is not P.full
              and all(exact_elementwise(u) for u in active)):
            status[node.out] = "full"
        else:
            status[node.out] = "keep"
    nodes = [as_full(n.out, consts[n.out].scalar, n.loc) if status[n.out] == "full" else clone(n)
             for n in graph.nodes]
    return rebuild(graph, nodes, {}, "fold")
