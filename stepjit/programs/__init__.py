"""Backends turn a trace's Graph into something that runs it: `program = build(graph)`,
then `program.run(env)` fills env (Value -> array) with every value the graph computes
that a caller may read (outputs, writes, decisions).

"interpret" evaluates nodes with the IR interpreter (the oracle). "cpu" optimizes and
fuses the graph and runs Numba kernels and BLAS calls (stepjit/runtime/cpu.py); "cuda" runs
the same fused groups as numba.cuda kernels (stepjit/runtime/cuda.py). In a process that has
used CUDA, "cpu" follows the tensors: a step on CUDA tensors runs on the device.
"""
from __future__ import annotations

from ..ir.interpreter import evaluate


class InterpretedProgram:
    backend = "interpret"

    def __init__(self, graph, keep=None):
        self.graph = graph

    def run(self, env):
        from .. import cuda
        if cuda._STATE.get("used") and any(cuda.is_device_array(a) for a in env.values()):
            return _interpret_on_host(self.graph, env)
        return evaluate(self.graph, env)


def _interpret_on_host(graph, env):
    """The interpreter on CUDA inputs (backend="interpret", or a one-shot trace of a cuda step):
    NumPy on host copies, and what leaves the program (outputs, writes) copied back to the
    device, so that results, .grad and new optimizer state stay where the step's tensors are."""
    from ..cuda import to_device, to_host
    out = evaluate(graph, {v: to_host(a) for v, a in env.items()})
    out.update(env)
    for v in dict.fromkeys([*graph.outputs, *(v for _, v in graph.writes)]):
        if v in out and v not in env:
            out[v] = to_device(out[v])
    return out


def _cpu(graph, keep=None):
    from .. import cuda
    if cuda._STATE.get("used"):   # tensors were put on CUDA in this process: follow their device
        return _ByDevice(graph, keep)
    from .cpu import CpuProgram  # imports Numba: only when the cpu backend is used
    return CpuProgram(graph, keep)


def _cuda(graph, keep=None):
    from .cuda import CudaProgram  # imports numba.cuda: only when the cuda backend is used
    return CudaProgram(graph, keep)


class _ByDevice:
    """backend="cpu" in a process that uses CUDA: a step whose tensors are on the device runs as
    a CudaProgram, one on the host as a CpuProgram (each built on first use)."""

    def __init__(self, graph, keep):
        self.graph, self.keep, self.built = graph, keep, {}

    def run(self, env):
        from ..cuda import is_device_array
        kind = "cuda" if any(is_device_array(a) for a in env.values()) else "cpu"
        program = self.built.get(kind)
        if program is None:
            from .cpu import CpuProgram
            program = self.built[kind] = (_cuda if kind == "cuda" else CpuProgram)(self.graph, self.keep)
        return program.run(env)

    @property
    def backend(self):
        return "cpu|cuda"

    def direct_plan(self):
        return None   # the device is chosen per call (tensors' devices are not guarded)

    def promote(self):
        return any([getattr(p, "promote", lambda: False)() for p in self.built.values()])

    def __getattr__(self, name):   # inspection (kernel_sources, fused, ...): the program built
        built = self.__dict__.get("built") or {}
        for program in built.values():
            return getattr(program, name)
        raise AttributeError(name)


_BUILDERS = {
    "interpret": InterpretedProgram,
    "cpu": _cpu,
    "cuda": _cuda,
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
