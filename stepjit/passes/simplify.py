"""Algebraic simplification that keeps every bit of every result.

Each rule rewrites one node, given the (already simplified) nodes that produce
its operands, into a cheaper node or into an existing Value. A rule fires only
when the result's shape and dtype are unchanged (broadcasting and type
promotion can change both) and the numbers are identical in IEEE arithmetic,
NaN, infinities and signed zeros included, and in the memory layout that
matmul and sum can be sensitive to.

Applied:
  literal      an `exact` elementwise op reading a `full` reads its value as a
               literal instead (the root gradient: mul(expand(reshape(full 1)), y)
               -> after folding, mul(full c, y) -> mul(c, y))
  x * 1, 1 * x, x / 1, x ** 1 -> x
  x + (-0.0), (-0.0) + x, x - 0.0 -> x; integer x + 0, x - 0 -> x
  x ** 2 -> x * x (numpy's power gives x*x's bits; tests check every kind of float)
  neg(neg(x)) -> x
  reshape / expand to x's own shape, transpose by the identity -> x
  cast to x's own dtype -> x, when x is a fresh (non-view) array, so no layout changes
  transpose(transpose(x, p), q) -> transpose(x, p∘q)
  reshape(reshape(x, s), t) -> reshape(x, t) when s only adds or drops 1-sized dims of x
  expand(expand(x, s), t) -> expand(x, t)

Refused, on purpose:
  x * 0 -> 0      nan * 0 and inf * 0 are nan; -x * 0 is -0.0
  x + 0.0 -> x    -0.0 + 0.0 is +0.0 (and 1/x tells them apart); only -0.0 is neutral
  0 - x -> -x     0 - 0 is +0.0, -(0) is -0.0
  x - x -> 0, x / x -> 1   nan, inf, 0/0
  copy(x) -> x    a clone is a fresh buffer; eager guarantees the caller one
  a general reshape of a reshape: numpy may copy at one step and not the other,
                  so the result's layout (and matmul/sum bits downstream) can differ
  rewrites that turn an output or a write into an input or into another
                  output/write (one buffer handed out twice; see rewrite.py)
"""
from __future__ import annotations

import numpy as np

from ..ir import primitives as P
from ..ir.graph import Graph, Value
from ..ir.impl import number_array
from ..ir.types import BOOL, FLOAT
from .fold import exact_elementwise
from .rewrite import clone, escaping, may_replace, rebuild, resolve, same_type


# -- helpers ----------------------------------------------------------------------------
def _is_literal(x) -> bool:
    return not isinstance(x, Value)


def _as(dtype, lit):
    """The literal as run_impl hands it to the impl for an op computing in `dtype`."""
    with np.errstate(all="ignore"):
        return number_array(lit, dtype.np)[()]


def _casting(node, i) -> bool:
    """Does run_impl convert operand i to the output dtype before the impl?"""
    return i in node.prim.casts and node.out.dtype.category != BOOL


def _is(node, i, want, negative_zero=None) -> bool:
    """Operand i is a literal converting to exactly `want` (and, for zero, the given sign)."""
    x = node.inputs[i]
    if not _is_literal(x) or not _casting(node, i):
        return False
    v = _as(node.out.dtype, x)
    if v != want:
        return False
    if negative_zero is not None and node.out.dtype.category == FLOAT:
        return bool(np.signbit(v)) == negative_zero
    return True


def _same(x, out) -> bool:
    return isinstance(x, Value) and x.shape == out.shape and x.dtype is out.dtype


def _producer(producers, x, prim):
    n = producers.get(x) if isinstance(x, Value) else None
    return n if n is not None and n.prim is prim else None


def _nonunit(shape):
    return tuple(d for d in shape if d != 1)


# -- rules: each returns None, a replacement Value, or a new Node ----------------------
def literal_operands(node, producers):
    if not exact_elementwise(node):
        return None
    inputs = list(node.inputs)
    for i, x in enumerate(inputs):
        full = _producer(producers, x, P.full)
        if full is None:
            continue
        value = np.full((), full.attrs["value"], x.dtype.np)
        if _casting(node, i):
            lit = value.astype(node.out.dtype.np).item()
        elif any(isinstance(y, Value) and y is not x and y.dtype is x.dtype for y in inputs):
            lit = value.item()   # NumPy computes a weak Python scalar in the other operand's type
        else:
            continue
        trial = inputs[:i] + [lit] + inputs[i + 1:]
        if same_type(node.prim, trial, node.attrs, node.out):
            inputs = trial
    return clone(node, inputs=inputs) if inputs != list(node.inputs) else None


def arithmetic_identity(node, producers):
    """x * 1, 1 * x, x / 1, x ** 1, x + -0.0, -0.0 + x, x - 0.0 -> x: the primitive's
    `identity` (registry.py) names the operand and the value."""
    out, ins = node.out, node.inputs
    if not node.prim.identity or out.dtype.category == BOOL or len(ins) != 2:
        return None
    for i, value in node.prim.identity:
        other = ins[1 - i]
        sign = bool(np.signbit(value)) if value == 0 else None
        if _is(node, i, value, negative_zero=sign) and _same(other, out):
            return other
    return None


def square(node, producers):
    if node.prim is not P.pow or not _is(node, 1, 2) or not isinstance(node.inputs[0], Value):
        return None
    x = node.inputs[0]
    if not same_type(P.mul, [x, x], {}, node.out):
        return None
    return clone(node, prim=P.mul, inputs=[x, x], attrs={})


def double_negation(node, producers):
    inner = _producer(producers, node.inputs[0], P.neg) if node.prim is P.neg else None
    if inner is not None and _same(inner.inputs[0], node.out):
        return inner.inputs[0]
    return None


def identity_move(node, producers):
    prim, x, out = node.prim, node.inputs[0] if node.inputs else None, node.out
    if not _same(x, out):
        return None
    if prim in (P.reshape, P.expand):
        return x
    if prim is P.transpose and tuple(node.attrs["perm"]) == tuple(range(out.ndim)):
        return x
    if prim is P.cast:
        src = producers.get(x)   # a node's fresh, dense result: astype would keep its layout
        if src is not None and not src.prim.view and src.prim.kind != "movement":
            return x
    return None


def compose_moves(node, producers):
    prim = node.prim
    if prim not in (P.transpose, P.reshape, P.expand):
        return None
    inner = _producer(producers, node.inputs[0], prim)
    if inner is None:
        return None
    x = inner.inputs[0]
    if prim is P.transpose:
        p, q = inner.attrs["perm"], node.attrs["perm"]
        attrs = {"perm": tuple(p[i] for i in q)}
    elif prim is P.reshape:
        if _nonunit(inner.attrs["shape"]) != _nonunit(x.shape):
            return None
        attrs = dict(node.attrs)
    else:
        attrs = dict(node.attrs)
    if not same_type(prim, [x], attrs, node.out):
        return None
    return clone(node, inputs=[x], attrs=attrs)


RULES = (literal_operands, arithmetic_identity, square, double_negation, identity_move,
         compose_moves)


def _simplify_node(node, producers):
    """Apply rules until none fires: the final Node, or the Value replacing node."""
    for _ in range(32):     # each rule strictly shrinks or drops; the bound is a guard
        for rule in RULES:
            result = rule(node, producers)
            if result is not None:
                break
        else:
            return node
        if isinstance(result, Value):
            return result
        node = result
    return node


def simplify(graph: Graph) -> Graph:
    subst, nodes, producers = {}, [], {}
    escapes, graph_inputs = escaping(graph), set(graph.all_inputs())
    for old in graph.nodes:
        node = clone(old, inputs=[resolve(subst, x) for x in old.inputs])
        result = _simplify_node(node, producers)
        if isinstance(result, Value):
            if may_replace(old.out, result, escapes, graph_inputs):
                subst[old.out] = result
                continue
            result = node
        nodes.append(result)
        producers[result.out] = result
    return rebuild(graph, nodes, subst, "simplify")
