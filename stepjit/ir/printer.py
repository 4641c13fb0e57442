"""The IR as text (and as JSON and Graphviz, for `stepjit dump --format json|dot`).

The text form is the one a person reads and `parser.parse_graph` reads back;
print -> parse -> print is the identity:

    # stage: traced
    def step(%x: f32[64,1000], %y: f32[64,10]) lifted(%w1: f32[1000,100] @w1, %w2: f32[100,10] @w2):
      %0 = matmul %x, %w1                     : f32[64,100]  # two_layer.py:41  h = x.mm(w1)
      %1 = clamp %0 {lo=0.0, hi=None}         : f32[64,100]  # two_layer.py:42  h_relu = h.clamp(min=0)
      %2 = matmul %1, %w2                     : f32[64,10]   # two_layer.py:43  y_pred = h_relu.mm(w2)
      %3 = sub %2, %y                         : f32[64,10]   # two_layer.py:44  loss = (y_pred - y).pow(2).sum()
      %4 = sum %3 {axis=None, keepdims=False} : f32[]
      return (%4,) writes(@w1 <- %0, @w1.grad <- %1)

Conventions (the parser relies on each):
  - one node per line: `%out = op operand, ... {attr=value, ...} : type  # file:line  text`
    (the comment is the node's Loc: file basename, line number, the line's text);
    the three columns are padded to line up (up to a cap, so one long line does
    not push every other line to the right)
  - operands are `%name` or a Python scalar literal, printed with repr: floats
    always carry a '.' or an exponent (or are inf/nan), bools are True/False
  - attrs follow the primitive's declared order; a DType prints as its short
    name (f32, i64, bool), everything else as a Python literal
  - names and labels that are not plain words print as quoted Python strings
    (`%'a b'`, `'w1'`), so any name survives the round trip
  - a header or return line longer than WRAP characters is split one item per line
"""
from __future__ import annotations

import math
import os
import re

import numpy as np

from .graph import Value
from .types import DType

WRAP = 100          # header/return lines longer than this are split, one item per line
LHS_CAP = 60        # alignment cap for the `%out = op operands {attrs}` column
TYPE_CAP = 20       # alignment cap for the `: type` column

_PLAIN_NAME = re.compile(r"[\w.]+\Z")
_PLAIN_LABEL = re.compile(r"@[^\s,()'\"{}#<>%@]+\Z")
_PLAIN_GRAPH_NAME = re.compile(r"[A-Za-z_]\w*\Z")


# -- atoms -----------------------------------------------------------------------
def fmt_value(v) -> str:
    """`%name`, or `%'...'` when the name is not a plain word."""
    name = v.name
    return "%" + (name if _PLAIN_NAME.match(name) else repr(name))


def fmt_label(label: str) -> str:
    return label if _PLAIN_LABEL.match(label) else repr(label)


def fmt_graph_name(name: str) -> str:
    return name if _PLAIN_GRAPH_NAME.match(name) else repr(name)


def fmt_scalar(x) -> str:
    """A Python scalar literal, in a form the parser reads back to the same type."""
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x))   # '1.0', '1e-05', 'inf', '-inf', 'nan'
    raise TypeError(f"not a scalar literal: {x!r}")


def fmt_attr(v) -> str:
    """An attribute value: DTypes by short name, data as Python literals."""
    if isinstance(v, DType):
        return v.short
    if v is None or isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
        return "None" if v is None else fmt_scalar(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, tuple):
        if len(v) == 1:
            return "(" + fmt_attr(v[0]) + ",)"
        return "(" + ", ".join(fmt_attr(x) for x in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(fmt_attr(x) for x in v) + "]"
    return repr(v)  # not IR data; the verifier's business, the printer never fails


def fmt_operand(x) -> str:
    if isinstance(x, Value):
        return fmt_value(x)
    try:
        return fmt_scalar(x)
    except TypeError:
        return repr(x)


def fmt_attrs(node) -> str:
    """`{a=1, b=None}` in the primitive's declared order, then any undeclared ones."""
    if not node.attrs:
        return ""
    declared = [k for k in node.prim.attrs if k in node.attrs]
    extra = [k for k in node.attrs if k not in node.prim.attrs]
    return "{" + ", ".join(f"{k}={fmt_attr(node.attrs[k])}" for k in declared + extra) + "}"


def fmt_loc(loc) -> str:
    s = f"{os.path.basename(loc.file)}:{loc.line}"
    text = loc.text.replace("\r", " ").replace("\n", " ") if loc.text else ""
    return f"{s}  {text}" if text else s


def node_lhs(node) -> str:
    """`%out = op operands {attrs}`: the first column of a node line."""
    parts = [fmt_value(node.out), "=", node.prim.name]
    if node.inputs:
        parts.append(", ".join(fmt_operand(x) for x in node.inputs))
    attrs = fmt_attrs(node)
    if attrs:
        parts.append(attrs)
    return " ".join(parts)


def format_node(node, show_loc: bool = True) -> str:
    """One node on one line, unpadded (used in error messages)."""
    s = f"{node_lhs(node)} : {node.out.type}"
    if show_loc and node.loc is not None:
        s += f"  # {fmt_loc(node.loc)}"
    return s


# -- header and return ---------------------------------------------------------------
def _param(v, label=None) -> str:
    s = f"{fmt_value(v)}: {v.type}"
    return s if label is None else f"{s} {fmt_label(label)}"


def _group(head: str, items: list, indent: str, wrap: bool) -> str:
    if not wrap or not items:
        if head.endswith("return ") and len(items) == 1:
            return head + "(" + items[0] + ",)"   # a one-tuple, as Python writes it
        return head + "(" + ", ".join(items) + ")"
    inner = "".join(f"{indent}    {it},\n" for it in items)
    return head + "(\n" + inner + indent + ")"


def _statement(groups: list, indent: str, end: str = "") -> str:
    """`head(items) head(items)...end` on one line when it fits in WRAP columns;
    otherwise each group that does not fit on its line is wrapped, one item per line."""
    flat = "".join(_group(head, items, indent, False) for head, items in groups) + end
    if len(flat) <= WRAP:
        return flat
    out = ""
    for k, (head, items) in enumerate(groups):
        tail = end if k == len(groups) - 1 else ""
        one = _group(head, items, indent, False)
        current = out.rsplit("\n", 1)[-1]
        out += one if len(current + one + tail) <= WRAP else _group(head, items, indent, True)
    return out + end


def _header(graph) -> str:
    groups = [(f"def {fmt_graph_name(graph.name)}", [_param(v) for v in graph.inputs])]
    if graph.lifted:
        groups.append((" lifted", [_param(v, label) for v, label in graph.lifted]))
    return _statement(groups, "", ":")


def _return(graph) -> str:
    groups = [("  return ", [fmt_value(v) for v in graph.outputs])]
    if graph.writes:
        groups.append((" writes", [f"{fmt_label(label)} <- {fmt_value(v)}" for label, v in graph.writes]))
    return _statement(groups, "  ")


# -- the graph ---------------------------------------------------------------------
def print_graph(graph, *, show_locs: bool = True) -> str:
    """The graph as text, one line per SSA value; see the module docstring."""
    lhs = [node_lhs(n) for n in graph.nodes]
    types = [n.out.type for n in graph.nodes]
    w1 = min(max((len(s) for s in lhs), default=0), LHS_CAP)
    w2 = min(max((len(s) for s in types), default=0), TYPE_CAP)
    stage = " ".join(str(graph.stage).split())   # one line, however a pass spelled it
    lines = [f"# stage: {stage}", _header(graph)]
    for node, left, ty in zip(graph.nodes, lhs, types):
        line = f"  {left.ljust(w1)} : {ty}"
        if show_locs and node.loc is not None:
            line = f"  {left.ljust(w1)} : {ty.ljust(w2)}  # {fmt_loc(node.loc)}"
        lines.append(line)
    lines.append(_return(graph))
    return "\n".join(lines) + "\n"


# -- JSON --------------------------------------------------------------------------
def _json_attr(v):
    if isinstance(v, DType):
        return v.short
    if isinstance(v, (tuple, list)):
        return [_json_attr(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else repr(v)  # strict JSON has no inf/nan
    if v is None or isinstance(v, str):
        return v
    return repr(v)


def _json_value(v) -> dict:
    return {"name": v.name, "dtype": v.dtype.short, "shape": list(v.shape)}


def _json_operand(x) -> dict:
    if isinstance(x, Value):
        return {"value": x.name}
    return {"literal": _json_attr(x)}


def graph_to_json(graph) -> dict:
    """A JSON-ready dict: values by name, attrs as JSON data (dtypes by short name,
    tuples as lists, non-finite floats as the strings 'inf', '-inf', 'nan')."""
    nodes = []
    for n in graph.nodes:
        entry = {
            "out": _json_value(n.out),
            "op": n.prim.name,
            "inputs": [_json_operand(x) for x in n.inputs],
            "attrs": {k: _json_attr(v) for k, v in n.attrs.items()},
            "text": node_lhs(n),
        }
        if n.loc is not None:
            entry["loc"] = {"file": os.path.basename(n.loc.file), "line": n.loc.line,
                            "text": n.loc.text}
        nodes.append(entry)
    return {
        "name": graph.name,
        "stage": graph.stage,
        "inputs": [_json_value(v) for v in graph.inputs],
        "lifted": [dict(_json_value(v), label=label) for v, label in graph.lifted],
        "nodes": nodes,
        "outputs": [v.name for v in graph.outputs],
        "writes": [{"label": label, "value": v.name} for label, v in graph.writes],
    }


# -- Graphviz ------------------------------------------------------------------------
def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_to_dot(graph) -> str:
    """Graphviz source: inputs as ellipses, nodes as boxes, outputs and writes as sinks."""
    ids = {}
    lines = [f"digraph {_dot_str(graph.name)} {{",
             f"  label={_dot_str(f'{graph.name} ({graph.stage})')};",
             "  node [fontname=monospace, fontsize=10];"]

    def vid(v):
        return ids.setdefault(id(v), f"v{len(ids)}")

    for v in graph.inputs:
        lines.append(f"  {vid(v)} [shape=ellipse, label={_dot_str(_param(v))}];")
    for v, label in graph.lifted:
        lines.append(f"  {vid(v)} [shape=ellipse, style=dashed, label={_dot_str(_param(v, label))}];")
    for n in graph.nodes:
        me = vid(n.out)
        lits = [fmt_operand(x) for x in n.inputs if not isinstance(x, Value)]
        text = n.prim.name + (" " + ", ".join(lits) if lits else "")
        attrs = fmt_attrs(n)
        if attrs:
            text += "\n" + attrs
        text += f"\n{fmt_value(n.out)}: {n.out.type}"
        if n.loc is not None:
            text += f"\n{fmt_loc(n.loc)}"
        lines.append(f"  {me} [shape=box, label={_dot_str(text)}];")
        for i, x in enumerate(n.inputs):
            if isinstance(x, Value):
                lines.append(f"  {vid(x)} -> {me} [label={_dot_str(str(i))}];")
    for i, v in enumerate(graph.outputs):
        lines.append(f"  out{i} [shape=doublecircle, label={_dot_str(f'out {i}')}];")
        lines.append(f"  {vid(v)} -> out{i};")
    for i, (label, v) in enumerate(graph.writes):
        lines.append(f"  w{i} [shape=note, label={_dot_str(label)}];")
        lines.append(f"  {vid(v)} -> w{i} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"
