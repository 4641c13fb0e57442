"""The IR interpreter: evaluates a Graph with the registry's NumPy impls.

It is the oracle for every compiled result. It calls the same `run_impl` as
eager dispatch, so an interpreted graph reproduces eager values bit for bit.
"""
from __future__ import annotations

import numpy as np

from .impl import run_impl
from .graph import Graph, Value
from .types import AVal


def _arg(env, v):
    return env[v] if isinstance(v, Value) else v


def evaluate(graph: Graph, env: dict, stop: int | None = None, start: int = 0) -> dict:
    """Run graph.nodes[start:stop] whose outputs are not yet in env; env maps Value -> array."""
    nodes = graph.nodes[start:stop] if start or stop is not None else graph.nodes
    for node in nodes:
        if node.out in env:
            continue
        out = node.out
        env[out] = run_impl(node.prim, [_arg(env, v) for v in node.inputs], node.attrs,
                            AVal(out.shape, out.dtype), node.loc)
    return env


def bind(graph: Graph, inputs, lifted) -> dict:
    env = {}
    for v, a in zip(graph.inputs, inputs):
        env[v] = a
    for (v, _), a in zip(graph.lifted, lifted):
        env[v] = a
    return env


def interpret(graph: Graph, inputs, lifted=()):
    """(outputs, writes): arrays for graph.outputs and {label: array} for graph.writes."""
    env = evaluate(graph, bind(graph, inputs, lifted))
    outputs = [np.asarray(env[v]) if isinstance(v, Value) else v for v in graph.outputs]
    writes = {label: env[v] for label, v in graph.writes}
    return outputs, writes
