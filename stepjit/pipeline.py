"""The pipeline: every stage a traced graph goes through before it runs, in order.

    lower       rewrites into fusible forms (passes/kernel_forms.py: a full-mask scalar put -> where)
    scatter-sums  adds of slice_scatters into zeros at disjoint slices -> one concat
                (passes/kernel_forms.py; cpu and cuda only): split's backward
    add-chains  a long chain of float adds -> one stack and sum (passes/kernel_forms.py; cpu and cuda
                only: the interpreter, the oracle, keeps the adds)
    squeezed-reductions  reshape(sum(x, keepdims=True)) dropping the kept axes -> sum(x)
                (passes/kernel_forms.py): a bias gradient is the reduction's own fresh array
    flat-matmuls  (..., m, k) @ (k, n) and a batched x.T @ g summed over its batch -> one 2-D
                matmul over reshapes (passes/kernel_forms.py; cpu only): one BLAS call, not
                NumPy's batched loop and a reduction
    transposed-matmuls  transpose(a @ b) -> b.T @ a.T (passes/kernel_forms.py; cpu only): a
                Linear weight's gradient comes out C-ordered, so the optimizer loop runs flat
    broadcast-reads  an expand read only by elementwise ops -> their broadcasting read of its
                input (passes/kernel_forms.py; cpu only): no view op between two loops
    dce         drop what outputs and writes do not need (less for the others to look at)
    cse         one node per distinct computation
    fold        uniform constants (the root gradient and its broadcasts) become `full`
    simplify    algebraic identities that keep every bit; `full` operands become literals
    cse         simplification can make two nodes alike
    dce         drop what folding and simplification left unused
    fused       the graph partitioned into loop groups and op groups (passes/fusion.py)
    inplace     written values computed straight into their tensor's buffer (an SGD step
                writes the parameter, not a temporary)
    buffers     workspace buffers handed on between values that are never alive together
                (passes/memory.py)
    kernels     the source of every loop kernel, with the name it has in the kernel cache
                (codegen/loops.py for cpu, codegen/cuda_kernels.py for cuda)

`compile_graph` runs them and returns a Record: the result of each stage, by name, in
order. The backends build what they run from a Record and nothing else, and `stepjit
dump` prints the Record of the program that ran, so what is shown is what runs. A native
whole-program function (codegen/native_program.py) is generated from the same Record, when a
backend asks for it (`Record.native_source`).

Each graph stage's result is stamped with its name (`graph.stage`). With `verify=True`,
or STEPJIT_VERIFY=1, the IR verifier runs on the traced graph and after every graph stage,
and an error names the stage that broke it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import config
from .ir.graph import Graph, Value
from .ir.verifier import IRVerifyError, verify as verify_graph
from .passes.cse import cse
from .passes.dce import dce
from .passes.fold import fold
from .passes.fusion import fuse
from .passes.kernel_forms import (lower, lower_add_chains, lower_broadcast_reads,
                                  lower_flat_matmuls, lower_scatter_sums,
                                  lower_squeezed_reductions, lower_transposed_matmuls)
from .passes.memory import computed_into_buffers, share_buffers
from .passes.simplify import simplify
from .profiler import span

OPTIMIZE = [
    ("dce", dce),
    ("cse", cse),
    ("fold", fold),
    ("simplify", simplify),
    ("cse", cse),
    ("dce", dce),
]
LOWER = [("lower", lower), ("scatter-sums", lower_scatter_sums), ("add-chains", lower_add_chains),
         ("squeezed-reductions", lower_squeezed_reductions)]
CPU_LOWER = [("flat-matmuls", lower_flat_matmuls), ("transposed-matmuls", lower_transposed_matmuls),
             ("broadcast-reads", lower_broadcast_reads)]
TARGETS = ("cpu", "cuda")


def verify_enabled(verify: bool = False) -> bool:
    return verify or config.verify()


def run_passes(graph: Graph, passes, *, verify: bool = False, stages=None) -> Graph:
    """Run (name, pass) pairs in order; each result is stamped stage=name and, when `stages`
    is a list, appended to it as (name, graph)."""
    check = verify_enabled(verify)
    if check:
        verify_graph(graph)
    for name, fn in passes:
        with span(f"pass {name}", "compile", nodes=len(graph.nodes)):
            graph = fn(graph)
        graph.stage = name
        if stages is not None:
            stages.append((name, graph))
        if check:
            try:
                verify_graph(graph)
            except IRVerifyError as e:
                raise IRVerifyError(f"after pass {name}: {e}") from None
    return graph


def optimize(graph: Graph, *, verify: bool = False) -> Graph:
    """The graph after every pass of OPTIMIZE; `graph` itself is left untouched."""
    return run_passes(graph, OPTIMIZE, verify=verify)


@dataclass(eq=False)
class LoopKernel:
    """One loop kernel as the cpu backend compiles it: `text` is the whole module written to
    the kernel cache, `fname` its function. `inplace`: output -> the input whose buffer the
    kernel stores it through (not an argument of its own); `given`: (shape, dtype) of each
    accumulator buffer the caller passes."""
    group: object
    fname: str
    text: str
    parallel: bool
    ins: list
    outs: list
    given: list
    inplace: dict


@dataclass(eq=False)
class CudaKernel:
    """One CUDA kernel of a loop group (codegen/cuda_kernels.py splits a group into one kernel per
    reduction and one for the rest): `group` is that part."""
    group: object
    fname: str
    text: str
    ins: list
    outs: list


@dataclass(eq=False)
class Record:
    """What the pipeline made of one graph: `stages` holds (name, result) in the order they
    ran; the fields name the results the backends use. `leaving`: values read after the
    program (outputs, writes, and the caller's `keep`)."""
    target: str
    source: Graph
    stages: list = field(default_factory=list)
    graph: Graph = None
    fused: object = None
    leaving: set = field(default_factory=set)
    inplace: dict = field(default_factory=dict)
    shared: dict = field(default_factory=dict)
    kernels: list = field(default_factory=list)
    _native: tuple = None

    def __getitem__(self, name):
        """The result of the last stage of that name."""
        for stage, result in reversed(self.stages):
            if stage == name:
                return result
        raise KeyError(name)

    def stage_names(self):
        return [name for name, _ in self.stages]

    def graph_stage_names(self):
        return [name for name, r in self.stages if isinstance(r, Graph)]

    def kernel_of(self, group):
        """The loop kernels (one on cpu, one per part on cuda) of a fused group."""
        return self.kernels[self.fused.groups.index(group)]

    def native_source(self):
        """(ProgramSource, ins, outs): the whole program as one native function
        (codegen/native_program.py), generated once, on first use; nothing is compiled."""
        if self._native is None:
            self._native = _native_source(self)
        return self._native


def compile_graph(graph: Graph, target: str = "cpu", keep=None, materialize_all: bool = False,
                  *, verify: bool = False, serial: bool = False) -> Record:
    """Run every stage on `graph` for `target` ("cpu" or "cuda"). `keep`: values the caller
    reads after the run besides outputs and writes (None: unknown, so nothing is computed
    into an input's buffer). `materialize_all` (check mode): every value the program computes
    is an output of its kernel, nothing is computed into an input's buffer, no buffer is
    shared. `serial`: no cpu loop runs on threads, however large (a program run once: its
    kernels compile faster and get machine-code entries, docs/cache.md)."""
    if target not in TARGETS:
        raise ValueError(f"stepjit: no pipeline for target {target!r}; choose from {TARGETS}")
    rec = Record(target, graph)
    rec.stages.append(("traced", graph))
    lowering = LOWER + (CPU_LOWER if target == "cpu" else [])
    g = run_passes(graph, lowering + OPTIMIZE, verify=verify, stages=rec.stages)
    g.stage = "optimized (" + ", ".join(rec.graph_stage_names()[1:]) + ")"
    rec.graph = g
    with span("fuse", "compile", nodes=len(g.nodes)):
        rec.fused = fuse(g, materialize_all=materialize_all)
    rec.stages.append(("fused", rec.fused))
    rec.leaving = set(v for v in g.outputs if isinstance(v, Value))
    rec.leaving.update(v for _, v in g.writes)
    rec.leaving.update(keep or ())
    rec.inplace = {} if materialize_all else inplace_plan(rec.fused, keep)
    rec.stages.append(("inplace", rec.inplace))
    if not materialize_all and target == "cpu":     # CUDA programs do not share buffers yet
        owned = computed_into_buffers(rec.fused.groups) - rec.leaving - set(rec.inplace)
        rec.shared = share_buffers(rec.fused.groups, owned, rec.leaving)
    rec.stages.append(("buffers", rec.shared))
    with span("codegen", "compile", target=target):
        rec.kernels = _cpu_kernels(rec, serial) if target == "cpu" else _cuda_kernels(rec)
    rec.stages.append(("kernels", rec.kernels))
    return rec


# -- the in-place plan ---------------------------------------------------------------------
def inplace_plan(fused, keep) -> dict:
    """Written value -> the lifted input it overwrites, where computing it into that buffer
    is safe: an elementwise loop reads the old value only at the index it writes, nothing
    later reads the old value, and the runtime reads no data-dependent decision afterwards
    (keep=() says there is none; None means unknown)."""
    if keep is None or keep:
        return {}
    graph = fused.graph
    by_label = {label: v for v, label in graph.lifted}
    by_label.update({"@" + v.name: v for v in graph.inputs})  # arguments: label = name
    returned = set(v for v in graph.outputs if isinstance(v, Value))
    out = {}
    order = fused.groups
    for label, new in graph.writes:
        old = by_label.get(label)
        if old is None or new in returned or old.shape != new.shape or old.dtype is not new.dtype:
            continue
        g = next((g for g in order if new in g.outputs), None)
        if g is None or (g.kind == "loop" and g.shape != new.shape):
            continue
        if g.kind == "op" and g.nodes[0].prim.lowering != "fill":
            continue
        later = order[order.index(g) + 1:]
        aliases = views_of(graph, old)   # a view of the old buffer sees the new values too
        if any(a in h.inputs for h in later for a in aliases) or aliases & returned:
            continue
        if old in g.inputs and old.shape != g.shape:
            continue
        if any(a in g.inputs for a in aliases - {old}):
            continue  # the loop reads the old buffer through a view at other indices
        out[new] = old
    return out


def views_of(graph, v):
    """v and every value that is a NumPy view of it (reshape, transpose, expand, slice)."""
    out = {v}
    for n in graph.nodes:
        if n.prim.view and n.inputs[0] in out:
            out.add(n.out)
    return out


# -- kernel generation -----------------------------------------------------------------------
def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _cpu_kernels(rec, serial=False):
    """One LoopKernel per loop group (None for an op group), named by the hash of its code."""
    from .codegen.kernels import kernel_hash, module_text
    from .codegen.loops import PARALLEL_MIN, loop_source
    out = []
    for g in rec.fused.groups:
        if g.kind != "loop":
            out.append(None)
            continue
        parallel = not serial and numel(g.shape) >= PARALLEL_MIN
        # Outputs computed into an input's own buffer are stored by the kernel through that
        # input (codegen/loops.py says why), so they are not kernel arguments.
        inplace = {v: rec.inplace[v] for v in g.outputs if rec.inplace.get(v) in g.inputs}
        probe, ins, outs, given = loop_source(g, rec.fused.constants, "kernel", parallel, inplace)
        # A loop nest with no prange (a reduction over the leading dim) is serial: compiled
        # with parallel=True, Numba would print a NumbaPerformanceWarning to the user's console
        # and the kernel could not have a machine-code entry.
        parallel = parallel and "prange(" in probe
        fname = f"k_{kernel_hash(probe, parallel)}"
        # (the name appears in the def line only: renamed, not generated again)
        src = probe.replace("def kernel(", f"def {fname}(", 1)
        out.append(LoopKernel(g, fname, module_text(fname, src, parallel), parallel, ins, outs,
                              given, inplace))
    return out


def _cuda_kernels(rec):
    """The CUDA kernels of each loop group, one per part (None for an op group)."""
    from .codegen.cuda_kernels import loop_kernel_source, split_group
    out = []
    for g in rec.fused.groups:
        if g.kind != "loop":
            out.append(None)
            continue
        parts = []
        for sub in split_group(g):
            fname, text, ins, outs = loop_kernel_source(sub, rec.fused.constants)
            parts.append(CudaKernel(sub, fname, text, ins, outs))
        out.append(parts)
    return out


def _native_source(rec):
    from .codegen import blas, native_program as native
    fused = rec.fused
    produced = {n.out for g in fused.groups for n in g.nodes}
    ins = []
    for g in fused.groups:
        for v in g.inputs:
            if v not in produced and v not in ins:
                ins.append(v)
    # In graph order, not set order: the source text (and so its cache key) must not
    # depend on hashing of Values, or every process would compile its own copy.
    order = [n.out for n in rec.graph.nodes] + ins
    outs = [v for v in dict.fromkeys(order) if v in rec.leaving and (v in produced or v in ins)
            and v not in rec.inplace]
    for v in rec.inplace.values():
        if v not in ins:
            ins.append(v)
    return native.ProgramSource(fused, ins, outs, rec.inplace, blas.gemm()), ins, outs
