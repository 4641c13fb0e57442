"""The later stages of the cpu pipeline as text, for `stepjit dump --stage optimized|fused|kernels`.

Nothing here compiles: the kernel sources are generated exactly as the cpu
backend generates them, with the function names they get in the kernel cache.
"""
from __future__ import annotations

from ..codegen.kernels import kernel_hash, module_text
from ..codegen.loops import loop_source
from ..ir.printer import print_graph
from ..passes.fusion import fuse
from .cpu import PARALLEL_MIN, _numel, optimize


def optimized_text(graph) -> str:
    g = optimize(graph)
    g.stage = "optimized (lower, " + ", ".join(_pass_names()) + ")"
    return print_graph(g)


def _pass_names():
    try:
        from ..passes.pipeline import OPTIMIZE
        return [name for name, _ in OPTIMIZE]
    except ImportError:
        return []


def fused_text(graph) -> str:
    return str(fuse(optimize(graph)))


def kernels_text(graph) -> str:
    fused = fuse(optimize(graph))
    parts = [f"# stage: kernels ({sum(g.kind == 'loop' for g in fused.groups)} Numba loop kernels; "
             "matmuls run through BLAS, views through NumPy)"]
    for i, g in enumerate(fused.groups):
        if g.kind != "loop":
            continue
        parallel = _numel(g.shape) >= PARALLEL_MIN
        probe = loop_source(g, fused.constants, "kernel", parallel)[0]
        fname = f"k_{kernel_hash(probe, parallel)}"
        src, ins, outs, _ = loop_source(g, fused.constants, fname, parallel)
        args = ", ".join([f"%{v.name}" for v in ins] + [f"out %{v.name}" for v in outs])
        parts.append(f"# group {i}: {fname}({args})")
        parts.append(module_text(fname, src, parallel).split("\n\n", 1)[1])
    return "\n".join(parts + _native_text(graph))


def _native_text(graph):
    """The native program the step runs as once hot (docs/compiler.md), when it can be one."""
    from .cpu import CpuProgram, native_mode
    if native_mode() == "never":
        return []
    program = CpuProgram(graph, keep=())     # keep=(): as the runtime builds a step's program
    if not program.native_ok:
        return []
    src = program.native_source()[0].source()
    return ["# once hot (its 64th call), the whole program runs as one native function:",
            src.split("\n\n", 1)[1]]


STAGE_TEXT = {"optimized": optimized_text, "fused": fused_text, "kernels": kernels_text}
