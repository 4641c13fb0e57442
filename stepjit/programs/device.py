"""backend="cpu" in a process that uses CUDA: each call runs where its tensors are."""
from __future__ import annotations

from .program import Program
from ..cuda import is_device_array


class ByDevice(Program):
    """A step whose tensors are on the device runs as a CudaProgram, one on the host as a
    CpuProgram, each built on first use. Inspection (record, kernels) reads the first built."""
    backend = "cpu|cuda"

    def __init__(self, graph, keep):
        self.graph, self.keep, self.built = graph, keep, {}

    def run(self, env):
        kind = "cuda" if any(is_device_array(a) for a in env.values()) else "cpu"
        program = self.built.get(kind)
        if program is None:
            if kind == "cuda":
                from .cuda import CudaProgram as make
            else:
                from .cpu import CpuProgram as make
            program = self.built[kind] = make(self.graph, self.keep)
        return program.run(env)

    def promote(self):
        return any([p.promote() for p in self.built.values()])

    def direct_plan(self):
        return None   # the device is chosen per call (tensors' devices are not guarded)

    def unwrapped(self):
        return next(iter(self.built.values()), self)

    @property
    def record(self):
        inner = self.unwrapped()
        return None if inner is self else inner.record

    def kernel_sources(self):
        return [s for p in self.built.values() for s in p.kernel_sources()]
