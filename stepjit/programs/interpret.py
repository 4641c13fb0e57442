"""The "interpret" backend: the IR interpreter runs the graph, node by node (the oracle)."""
from __future__ import annotations

from ..ir.interpreter import evaluate
from .program import Program
from ..cuda import to_device, to_host
from .. import cuda


class InterpretedProgram(Program):
    backend = "interpret"

    def __init__(self, graph, keep=None):
        self.graph = graph

    def run(self, env):
        if cuda._STATE.get("used") and any(cuda.is_device_array(a) for a in env.values()):
            return _interpret_on_host(self.graph, env)
        return evaluate(self.graph, env)


def _interpret_on_host(graph, env):
    """The interpreter on CUDA inputs (backend="interpret", or a one-shot trace of a cuda step):
    NumPy on host copies, and what leaves the program (outputs, writes) copied back to the
    device, so that results, .grad and new optimizer state stay where the step's tensors are."""
    out = evaluate(graph, {v: to_host(a) for v, a in env.items()})
    out.update(env)
    for v in dict.fromkeys([*graph.outputs, *(v for _, v in graph.writes)]):
        if v in out and v not in env:
            out[v] = to_device(out[v])
    return out


build = InterpretedProgram
