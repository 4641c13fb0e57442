"""Backends turn a trace's Graph into something that runs it: `program = build(graph)`,
then `program.run(env)` fills env (Value -> array) with every value the graph computes
that a caller may read (outputs, writes, decisions).

"interpret" evaluates nodes with the IR interpreter (the oracle). "cpu" will generate
fused Numba kernels (issue 5); until then it runs the interpreter too.
"""
from __future__ import annotations

from ..ir.interpreter import evaluate


class InterpretedProgram:
    backend = "interpret"

    def __init__(self, graph):
        self.graph = graph

    def run(self, env):
        return evaluate(self.graph, env)


_BUILDERS = {
    "interpret": InterpretedProgram,
    "cpu": InterpretedProgram,
}


def register_backend(name, builder):
    """builder(graph) -> object with .run(env) -> env."""
    _BUILDERS[name] = builder


def build(graph, backend):
    try:
        builder = _BUILDERS[backend]
    except KeyError:
        raise NotImplementedError(f"backend {backend!r} is not available") from None
    return builder(graph)
