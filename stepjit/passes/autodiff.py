"""Reverse-mode autodiff as a Graph -> Graph pass.

`autodiff(graph, output, wrt)` returns a new graph computing the original
outputs plus the gradients of `output` with respect to the graph inputs in
`wrt`. It does not carry a second set of derivative rules: it replays the graph
through the tracer, whose dispatch records the tape exactly as a step's own
`loss.backward()` does, and walks that tape with the autograd engine. So the
VJP rules of the registry are the only gradient formulas in stepjit, and the
gradients are summed in the same order as eagerly.

Only what is needed is derived: inputs not in `wrt` get no gradient, and a
node whose inputs do not depend on `wrt` records no backward.
"""
from __future__ import annotations

from .. import dispatch
from ..autograd.gradients import grad as autograd_grad
from ..autograd.grad_mode import enable_grad
from ..ir.graph import Graph, Value
from ..ir.interpreter import evaluate  # noqa: F401  (re-exported for callers checking results)
from ..tensor import Tensor
from ..tracer.tracer import Tracer
from ..ir import primitives as P


def autodiff(graph: Graph, output: Value, wrt, seed=None) -> Graph:
    """New graph: graph's computation, then d(output)/d(v) for v in wrt, appended to outputs.

    A non-scalar output needs `seed` (a Value of the output's shape, among the graph inputs),
    as `backward(gradient=...)` does."""
    if output.shape != () and seed is None:
        raise ValueError("autodiff: a non-scalar output needs a seed gradient")
    tracer = Tracer(graph.name)
    env = {}
    wrt = list(wrt)
    for v in graph.inputs:
        t = tracer._new_tensor(Value(tracer._name(v.name), v.shape, v.dtype))
        tracer.graph.inputs.append(t._data)
        if v in wrt:
            t._requires_grad = True
        env[v] = t
    for v, label in graph.lifted:
        t = tracer._new_tensor(Value(tracer._name(v.name), v.shape, v.dtype))
        tracer.graph.lifted.append((t._data, label))
        if v in wrt:
            t._requires_grad = True
        env[v] = t
    prev, dispatch.MODE.tracer = dispatch.MODE.tracer, tracer
    try:
        with enable_grad():
            for node in graph.nodes:
                args = [env[a] if isinstance(a, Value) else a for a in node.inputs]
                env[node.out] = dispatch.apply(node.prim, *args, **node.attrs)
                tracer.graph.nodes[-1].loc = node.loc
            grads = autograd_grad([env[output]], [env[v] for v in wrt],
                                  None if seed is None else [env[seed]], allow_unused=True)
    finally:
        dispatch.MODE.tracer = prev
    out = tracer.graph
    out.stage = "autodiff"
    out.outputs = [env[v]._data for v in graph.outputs]
    for g, v in zip(grads, wrt):
        out.outputs.append(g._data if isinstance(g, Tensor) else _zeros(tracer, v))
    out.writes = [(label, env[v]._data) for label, v in graph.writes]
    return out


def _zeros(tracer, v):
    prev, dispatch.MODE.tracer = dispatch.MODE.tracer, tracer
    try:
        return dispatch.apply(P.full, shape=v.shape, value=0, dtype=v.dtype)._data
    finally:
        dispatch.MODE.tracer = prev
