"""Backends turn a trace's Graph into something that runs it: `program = build(graph)`,
then `program.run(env)` fills env (Value -> array) with every value the graph computes
that a caller may read (outputs, writes, decisions).

"interpret" evaluates nodes with the IR interpreter (the oracle). "cpu" optimizes and
fuses the graph and runs Numba kernels and BLAS calls (stepjit/runtime/cpu.py).
"""
from __future__ import annotations

from ..ir.interpreter import evaluate


class InterpretedProgram:
    backend = "interpret"

    def __init__(self, graph, keep=None):
        self.graph = graph

    def run(self, env):
        return evaluate(self.graph, env)


def _cpu(graph, keep=None):
    from .cpu import CpuProgram  # imports Numba: only when the cpu backend is used
    return CpuProgram(graph, keep)


_BUILDERS = {
    "interpret": InterpretedProgram,
    "cpu": _cpu,
}


def register_backend(name, builder):
    """builder(graph, keep) -> object with .run(env) -> env. `keep`: Values the runtime reads
    after the run besides outputs and writes (data-dependent decisions); None if unknown."""
    _BUILDERS[name] = builder


def build(graph, backend, keep=None):
    try:
        builder = _BUILDERS[backend]
    except KeyError:
        raise NotImplementedError(f"backend {backend!r} is not available") from None
    return builder(graph, keep)
