"""The IR verifier: checks a Graph's invariants, runnable between any two passes.

`verify(graph)` returns None or raises IRVerifyError naming the broken rule and
the node's printed line. The invariants:
  - every node's primitive is the registered entry of that name
  - a node's attrs are exactly its primitive's declared attrs, and are plain data
    (None, bool, int, float, str, DType, tuples and lists of them); its operand count
    matches the primitive's inputs (at least one for variadic primitives)
  - operands are Values or Python scalar literals (bool, int, float)
  - SSA: each value name is defined once (as an input, a lifted input or a node
    output), and every use refers to the Value object defined under that name
    earlier in the graph
  - a node's declared type is what its primitive's shape rule computes from its
    operands' types and its attrs (a literal is a weak scalar, as in
    `dispatch.aval_of`); a rule returning shape None (a bool-mask gather, whose
    shape depends on data) only fixes the dtype
  - outputs and writes reference defined values; write labels and lifted
    labels are unique

It is O(nodes) plus one shape-rule call per node, and builds error text only
when it fails.
"""
from __future__ import annotations

import numpy as np

from ..errors import StepjitError
from .graph import Value
from .registry import PRIMITIVES
from .types import ALL_DTYPES, AVal, DType, scalar_dtype, type_str

_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


class IRVerifyError(StepjitError):
    """A Graph breaks an IR invariant; the message names the rule and the node."""


def literal_aval(x) -> AVal:
    """A Python scalar operand's abstract value: a weak zero-dim scalar."""
    return AVal((), scalar_dtype(x), weak=True)


def operand_aval(x) -> AVal:
    if isinstance(x, Value):
        return AVal(x.shape, x.dtype)
    return literal_aval(x)


def infer_aval(prim, inputs, attrs) -> AVal:
    """Run `prim`'s shape rule on the operands' abstract values (may raise)."""
    return prim.shape_rule(*[operand_aval(x) for x in inputs], **attrs)


def type_mismatch(node, inferred: AVal) -> str | None:
    """Why `node.out`'s declared type differs from `inferred`, or None."""
    out = node.out
    want_shape = None if inferred.shape is None else tuple(int(d) for d in inferred.shape)
    if inferred.dtype is out.dtype and (want_shape is None or want_shape == out.shape):
        return None
    want = (f"{inferred.dtype.short}[?]" if want_shape is None
            else type_str(want_shape, inferred.dtype))
    return f"declared type {out.type} differs from {want}, computed by the shape rule of {node.prim.name}"


def _is_data(v) -> bool:
    """Attr values the printer, parser and structural hashing understand."""
    if v is None or isinstance(v, (str, DType) + _SCALARS):
        return True
    if isinstance(v, (tuple, list)):
        return all(_is_data(x) for x in v)
    return False


def _node_text(node) -> str:
    try:
        from .printer import format_node
        return format_node(node)
    except Exception:  # a node too broken to print still gets a message
        return repr(node)


def _fail(index, node, reason):
    raise IRVerifyError(f"node {index}: {reason}\n    {_node_text(node)}")


def _value_problem(v) -> str | None:
    if not isinstance(v, Value):
        return f"{v!r} is not a Value"
    if not isinstance(v.name, str) or not v.name:
        return f"value name {v.name!r} is not a non-empty string"
    if not isinstance(v.dtype, DType) or v.dtype not in ALL_DTYPES:
        return f"%{v.name} has dtype {v.dtype!r}, not a stepjit DType"
    if not isinstance(v.shape, tuple) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in v.shape):
        return f"%{v.name} has shape {v.shape!r}, not a tuple of non-negative ints"
    return None


class _Scope:
    """The values defined so far, by name, with where each was defined."""

    def __init__(self, graph):
        self.graph = graph
        self.values = {}   # name -> Value
        self.where = {}    # name -> description

    def define(self, v, where: str) -> str | None:
        problem = _value_problem(v)
        if problem:
            return problem
        if v.name in self.values:
            return f"%{v.name} is defined twice (first {self.where[v.name]}, again {where})"
        self.values[v.name] = v
        self.where[v.name] = where
        return None

    def use_problem(self, v, later_from: int) -> str | None:
        """None when `v` is the Value defined under its name; else why not."""
        if not isinstance(v, Value):
            return f"{v!r} is not a Value"
        if self.values.get(v.name) is v:
            return None
        if v.name in self.values:
            return (f"%{v.name} refers to a different Value than the one defined "
                    f"{self.where[v.name]} under that name")
        for j, n in enumerate(self.graph.nodes[later_from:], later_from):
            if n.out is v:
                return f"%{v.name} is used before its definition (by node {j})"
        return f"%{v.name} is never defined"


def _check_node(i, node, scope):
    prim = node.prim
    name = getattr(prim, "name", None)
    if PRIMITIVES.get(name) is not prim:
        what = f"{name!r} is not the registered primitive of that name" if name in PRIMITIVES \
            else f"unknown primitive {name!r}"
        _fail(i, node, what)
    if not isinstance(node.attrs, dict) or set(node.attrs) != set(prim.attrs):
        have = set(node.attrs) if isinstance(node.attrs, dict) else set()
        missing = [a for a in prim.attrs if a not in have]
        extra = sorted(a for a in have if a not in prim.attrs)
        _fail(i, node, f"attrs of {name} must be {{{', '.join(prim.attrs)}}}"
                       + (f"; missing {missing}" if missing else "")
                       + (f"; unexpected {extra}" if extra else ""))
    for key, value in node.attrs.items():
        if not _is_data(value):
            _fail(i, node, f"attr {key}={value!r} is not IR data (None, bool, int, float, str, "
                           "DType, or tuples/lists of them)")
    n_in = len(node.inputs)
    if prim.variadic and n_in < 1:
        _fail(i, node, f"{name} takes at least one operand")
    if not prim.variadic and n_in != len(prim.inputs):
        _fail(i, node, f"{name} takes {len(prim.inputs)} operands "
                       f"({', '.join(prim.inputs)}), got {n_in}")
    for k, x in enumerate(node.inputs):
        if isinstance(x, Value):
            problem = scope.use_problem(x, i)
            if problem:
                _fail(i, node, problem)
        elif not isinstance(x, _SCALARS):
            _fail(i, node, f"operand {k} is {x!r}, neither a Value nor a bool/int/float literal")
    problem = _value_problem(node.out)
    if problem:
        _fail(i, node, problem)
    try:
        inferred = infer_aval(prim, node.inputs, node.attrs)
    except Exception as e:
        _fail(i, node, f"shape rule of {name} rejects this node: {type(e).__name__}: {e}")
    mismatch = type_mismatch(node, inferred)
    if mismatch:
        _fail(i, node, mismatch)


def verify(graph) -> None:
    """Check every invariant listed in the module docstring; raise IRVerifyError."""
    scope = _Scope(graph)
    for k, v in enumerate(graph.inputs):
        problem = scope.define(v, f"as input {k}")
        if problem:
            raise IRVerifyError(f"input {k}: {problem}")
    labels = set()
    for k, entry in enumerate(graph.lifted):
        v, label = entry
        problem = scope.define(v, f"as lifted input {label}")
        if problem:
            raise IRVerifyError(f"lifted input {k} ({label}): {problem}")
        if label in labels:
            raise IRVerifyError(f"lifted input {k}: label {label} is lifted twice")
        labels.add(label)
    for i, node in enumerate(graph.nodes):
        _check_node(i, node, scope)
        problem = scope.define(node.out, f"by node {i}")
        if problem:
            _fail(i, node, problem)
    end = len(graph.nodes)
    for k, v in enumerate(graph.outputs):
        problem = scope.use_problem(v, end)
        if problem:
            raise IRVerifyError(f"output {k}: {problem}")
    written = set()
    for k, entry in enumerate(graph.writes):
        label, v = entry
        if not isinstance(label, str) or not label:
            raise IRVerifyError(f"write {k}: label {label!r} is not a non-empty string")
        if label in written:
            raise IRVerifyError(f"write {k}: label {label} is written twice")
        written.add(label)
        problem = scope.use_problem(v, end)
        if problem:
            raise IRVerifyError(f"write {k} ({label}): {problem}")
    return None
