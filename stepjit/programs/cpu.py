"""The CPU backend: a trace's graph, optimized and fused, run as Numba kernels and BLAS calls.

A CpuProgram is built once per trace (shapes are fixed within a trace) and
keeps its workspace between calls: buffers of values that never leave the
program are allocated once. Values that do leave it (outputs, written-back
state) get fresh arrays each call, or, when it is safe, are computed straight
into the buffer of the tensor they update (an in-place optimizer step writes
the parameter, not a temporary).
"""
from __future__ import annotations

import time

import numpy as np

from .. import config, cuda
from ..codegen import compile_helper, machine_cache
from ..codegen.kernels import get_module_function, load_kernel
from ..codegen.loops import PARALLEL_MIN
from ..codegen.straight_line import StraightWriter
from ..ir.impl import raise_check, run_impl
from ..ir.graph import Value
from ..ir.interpreter import evaluate
from ..ir.primitives.reductions import count
from ..ir.types import AVal
from ..ir import primitives as P
from ..pipeline import compile_graph, numel as _numel
from . import threads, warmup
from .program import HOT_REUSE, NATIVE_READY, Program, raise_failed_checks

# A program whose every value is this small is a tiny step, all overhead: it goes native
# whatever its length. A larger one goes native only if it has few distinct loop kernels:
# Numba compiles a native program in ~0.3 s per distinct loop kernel (structurally equal
# loops, an unrolled RNN's steps, share one function: codegen/native_program.py), paid at the
# 64th call of a cold cache, for a gain of a few us per kernel call.
NATIVE_SMALL_ELEMENTS = 1 << 14
NATIVE_MAX_KERNELS = 24
# Past this many groups a native program is called unpacked (`program`): packing saves ~70 ns
# per argument of a call that computes for hundreds of us.
PACKED_MAX_GROUPS = 64
# A program that will go native when hot (runtime/compiled.py: at its trace's 64th reuse) runs
# interpreted until then, by default (STEPJIT_FIRST_CALL unset): the native program compiles
# its loops again inside its own module, so loop kernels compiled for its first runs would be
# thrown away, after costing 0.3-1 s each, while the interpreter runs a small program's 64
# calls in milliseconds each. Past this many runs (a program the runtime never promotes: a
# step traced on every call) it compiles its loop kernels after all.
INTERPRETED_RUNS = 128
# Interpreted runs timed before a helper process is decided on for the native program
# (codegen/compile_helper.py: helps_program).
TIMED_RUNS = 2


def native_mode() -> str:
    """When a small program becomes one native Numba function: "hot" (default) once the runtime
    finds its trace hot (runtime/compiled.py: re-verified at its 64th reuse), "always" as soon as it is
    built (STEPJIT_NATIVE=1), "never" (STEPJIT_NATIVE=0). Not at once by default: Numba compiles
    the whole-program function in a second or more (LLVM re-optimizes the inlined kernels),
    which a trace used a few times, or a first call's, should not pay; the on-disk cache makes
    it a one-time cost for a hot one."""
    return config.native_mode()


class _Env(dict):
    """Values the program did not materialize (a decision read by the runtime) are computed
    on demand by the interpreter, from the traced graph."""
    __slots__ = ("program",)

    def __missing__(self, v):
        # Not from values whose workspace buffer a later value reused (passes/memory.py).
        shared = self.program.shared
        full = evaluate(self.program.source_graph, {k: a for k, a in self.items() if k not in shared})
        if v not in full:
            raise KeyError(f"stepjit: the cpu program has no value %{v.name}")
        self[v] = full[v]
        return full[v]


def output_aliases(source, optimized):
    """(source value, optimized value) for each output and write of `source` that the optimizer
    replaced by another value (an identity reshape removed, `x * 1.0` dropped, a value merged
    with an equal one): the runtime reads the source graph's values (a segment's exports, the
    leaf's results and writes), the program computes the optimized graph's."""
    pairs = list(zip(source.outputs, optimized.outputs))
    written = dict(optimized.writes)
    pairs += [(v, written.get(label)) for label, v in source.writes]
    return [(a, b) for a, b in pairs
            if isinstance(a, Value) and isinstance(b, Value) and a is not b]


class NativeCall:
    """The program as one Numba function: `outs = fn(*ins, *held buffers, *workspace, dims)`, or
    `fn(*ins, *held buffers, *workspace, *given, dims)` where it is given its results' arrays
    (`given`: their (shape, dtype), allocated here each call, since a caller keeps them:
    codegen/native_program.py) and returns nothing. A
    0-dim output is stored into its held buffer (v, buffer), which the caller copies (boxing
    an array, or a float, costs more than the rest of a tiny step); a value computed into an
    input's buffer (inplace: value -> that input) is not returned at all. `workspace`: the
    buffers of the program's intermediates (codegen/native_program.py), allocated once here, like
    CpuProgram's workspace: a program must not run in two threads at once. `fresh`: outputs
    the function allocated (not views of inputs), which a caller may keep uncopied.
    `packed(addresses, dims)`: the same program on the data addresses of its inputs, held
    buffers and workspace (codegen/pointers.py), for a caller that knows the inputs' arrays
    are the same as when it packed them (fastcall.py). Both are kernels.Kernel objects: once
    run, each is a machine-code entry where the program allocates nothing (docs/cache.md).
    A program that returns nothing may return None or () (an entry returns None)."""
    __slots__ = ("fn", "ins", "outs", "held", "workspace", "dims", "inplace", "fresh", "packed",
                 "checks", "given", "written", "last")

    def __init__(self, fn, ins, outs, held, workspace, dims, inplace, fresh, packed, checks=(),
                 given=()):
        self.fn, self.ins, self.outs, self.held, self.dims = fn, ins, outs, held, dims
        self.workspace, self.inplace, self.fresh, self.packed = workspace, inplace, fresh, packed
        self.checks = checks    # (check node, its flag's buffer), tested after each run
        self.given = given      # (shape, dtype) of each output's array, made per call
        # positions (inputs, then held and workspace buffers) the program stores into
        targets = set(inplace.values())
        self.written = tuple(k for k, v in enumerate(ins) if v in targets)
        self.written += tuple(range(len(ins), len(ins) + len(held) + len(workspace)))
        self.last = ((), None)  # (the arrays last packed, their addresses)

    def run(self, env):
        """One run on env's arrays: through the packed form where it can describe them, as the
        fast call runs it, so that a program compiles one function, not two."""
        arrays = [env[v] for v in self.ins] + [b for _, b in self.held] + self.workspace
        p = self._addresses(arrays)
        given = [np.empty(shape, dtype) for shape, dtype in self.given]
        got = self.fn(*arrays, *given, self.dims) if p is None \
            else self.packed(p, *given, self.dims)
        if self.checks:
            raise_failed_checks(self.checks)
        for v, a in zip(self.outs, given or got or ()):
            env[v] = a
        for v, b in self.held:
            env[v] = b.copy()
        for v, target in self.inplace.items():
            env[v] = env[target]

    def _addresses(self, arrays):
        """The packed form's argument for these arrays (packed again only when one changed), or
        None: no packed form, arrays it cannot describe, or `program` has already run (it
        stays the one function this program compiled)."""
        if self.packed is None or self.fn.fastest() is not self.fn:
            return None
        last, p = self.last
        if len(last) != len(arrays) or any(a is not b for a, b in zip(arrays, last)):
            p = pack_addresses(arrays, self.written)
            self.last = (tuple(arrays), p)
        return p


def predicted_calls(program, env):
    """[(kernel, signature)] of the program's loop kernels, in the order its first run calls
    them, with the argument signature (machine_cache.signature) each call will have, for the
    helper process that compiles some of them meanwhile (codegen/compile_helper.py). Found by
    running the steps on stand-ins: the inputs' own arrays, the buffers the program gives its
    values (allocation: C-contiguous arrays), a view op's impl on those (a transpose's layout),
    a new C-ordered array for what a NumPy op makes. Stops at anything it cannot follow: a
    wrong or missing signature only costs the helper's time."""
    if not compile_helper.enabled():
        return []
    arrays, calls = {}, []

    def array(v):
        if not isinstance(v, Value):
            return v
        a = arrays.get(v)
        if a is None:
            a = arrays[v] = env[v]
        return a

    def made(v):
        kind, what = program.allocation(v)
        a = array(what) if kind == "input" else what if kind == "buffer" else \
            np.empty(v.shape, v.dtype.np)
        arrays[v] = a
        return a

    try:
        for st in program.steps:
            if isinstance(st, LoopStep):
                args = [array(v) for v in st.ins] + [made(v) for v in st.outs]
                args += list(st.sizes) + list(st.scratch)
                sig = machine_cache.signature(args)
                if sig is not None and not st.kernel.parallel:
                    calls.append((st.kernel, sig))
                for v, old in st.inplace:
                    arrays[v] = array(old)
            elif st.lowering == "view":
                node = st.node
                arrays[node.out] = node.prim.impl(*[array(v) for v in node.inputs], **node.attrs)
            elif st.lowering in ("matmul", "fill", "size", "native"):
                made(st.node.out)            # into its buffer, as OpStep runs it
            else:
                arrays[st.node.out] = np.empty(st.node.out.shape, st.node.out.dtype.np)
    except Exception:  # noqa: BLE001 - a stand-in an impl refuses: the rest is not predicted
        pass
    return calls


def pack_addresses(arrays, written=()):
    """The data addresses of `arrays` as an int64 array, or None when one of them is not an
    array carray can stand for: another layout, misaligned, not a NumPy array, or read-only
    while its position is in `written` (the program stores into it)."""
    for k, a in enumerate(arrays):
        if type(a) is not np.ndarray:
            return None
        f = a.flags
        if not (f.c_contiguous and f.aligned) or (k in written and not f.writeable):
            return None
    return np.array([a.ctypes.data for a in arrays], dtype=np.int64)


def _same(v):
    return v


class LoopStep:
    """One loop kernel of the record (pipeline.LoopKernel). Its partial-reduction accumulators
    are buffers of this step, kept between calls like the program's workspace
    (codegen/loops.py, _reduction_prologue: a kernel that allocates nothing can run as a
    machine-code entry, without Numba)."""
    __slots__ = ("kernel", "ins", "outs", "sizes", "scratch", "source", "inplace", "checks",
                 "kernel_nodes", "pending")

    def __init__(self, loop, program):
        # source: this graph's kernel text. The kernel that runs is shared by every graph whose
        # kernel has the same code (its text's comments may name another graph's values).
        self.kernel, _ = load_kernel(loop.fname, loop.text, loop.parallel)
        self.source = loop.text
        self.ins, self.outs = loop.ins, loop.outs
        self.inplace = [(v, old) for v, old in loop.inplace.items() if v not in self.outs]
        self.sizes = tuple(loop.group.shape)
        self.scratch = [program.empty(shape, dtype) for shape, dtype in loop.given]
        # the checks whose flags it computes (registry `check`): tested right after it
        self.checks = [n for n in loop.group.nodes if n.prim.check]
        self.kernel_nodes = loop.group.nodes
        self.pending = None      # its warmup.PendingKernel while the kernel is not loaded

    def emit(self, w):
        """This step's lines in a program's straight-line function (straight_line.py)."""
        args = [w.value(v) for v in self.ins]
        args += [w.produce(v, w.buffer(v)) for v in self.outs]
        fn = self.kernel.fastest() if self.pending is None else self.pending
        args += [str(n) for n in self.sizes] + [w.const(b, "scratch") for b in self.scratch]
        w.emit(f"{w.const(fn, 'kernel')}({', '.join(args)})")
        for v, old in self.inplace:
            w.alias(v, old)


class OpStep:
    """One node run with NumPy: matmul through BLAS (into its buffer), a `full` that
    overwrites a tensor (`w.grad.zero_()`) as a fill of that buffer, views for free, a node
    whose registry entry says its native form beats its impl (`native_first`: a scatter-add of
    rows) by that form, the rest by its impl."""
    __slots__ = ("node", "aval", "args", "transposed", "lowering")
    checks = ()     # (a check run by its impl raises itself)

    def __init__(self, node, program):
        self.node = node
        self.aval = AVal(node.out.shape, node.out.dtype)
        self.args = node.inputs
        self.transposed = None
        self.lowering = "native" if node.prim.runs_native(node) else node.prim.lowering
        if node.prim.lowering == "matmul":     # (source, is it read transposed) per operand
            self.transposed = [_transpose_source(program.producers, v) for v in node.inputs]

    def reads(self):
        """The values this step reads."""
        if self.transposed is not None:
            return [v for v, _ in self.transposed]
        return [v for v in self.args if isinstance(v, Value)]

    def emit(self, w):
        """This step's lines in a program's straight-line function (straight_line.py), as its
        primitive's lowering says (OP_LOWERING)."""
        OP_LOWERING[self.lowering](self, w)

    def _matmul(self, w):
        (a, ta), (b, tb) = self.transposed
        a, b = w.value(a) + (".T" if ta else ""), w.value(b) + (".T" if tb else "")
        out = w.produce(self.node.out, w.buffer(self.node.out))
        w.emit(f"np.matmul({a}, {b}, out={out})")

    def _fill(self, w):
        buf = w.produce(self.node.out, w.buffer(self.node.out))
        w.emit(f"{buf}.fill({w.const(self.node.attrs['value'], 'value')})")

    def _size(self, w):
        """A number of a shape (a mean's divisor), filled in each run: the buffer may be
        handed on to another value between runs (passes/memory.py)."""
        node = self.node
        value = node.out.dtype.np.type(count(**_count_attrs(node)))
        buf = w.produce(node.out, w.buffer(node.out))
        w.emit(f"{buf}.fill({w.const(value, 'count')})")

    def _view(self, w):
        node = self.node
        fixed = self._fixed_view(w)
        if fixed is not None:
            # made once: the same view of the same buffer on every run (W8 made ~90 a step,
            # 0.3-1 us each)
            w.fixed[node.out] = fixed
            w.produce(node.out, w.const(fixed, f"view_{node.out.name}"))
            return
        args = ", ".join(w.value(v) for v in self.args)
        attrs = w.const(node.attrs, "attrs")
        w.produce(node.out, f"{w.const(node.prim.impl, node.prim.name)}({args}, **{attrs})")

    def _fixed_view(self, w):
        """This view's array, made now, where every run would make the same one: its input is a
        workspace buffer or a fixed view of one (StraightWriter.fixed), the result shares its
        memory (a reshape of a transposed buffer is a copy: made on each run, not here), and
        the program's caller does not read it (env gets no array it could keep across runs)."""
        node = self.node
        arrays = [w.fixed.get(v) if isinstance(v, Value) else v for v in self.args]
        if not arrays or any(a is None for a in arrays) or w.exported(node.out):
            return None
        try:
            view = node.prim.impl(*arrays, **node.attrs)
        except Exception:  # noqa: BLE001 - left to the run, which raises it with the user's line
            return None
        if not isinstance(view, np.ndarray) or not np.may_share_memory(view, arrays[0]):
            return None
        return view

    def _native(self, w):
        """The registry entry's native form (codegen/indexing.py), called through Numba's
        dispatcher, with its index check: a bad index raises the impl's own error before
        anything later runs, as in a native program."""
        from ..codegen import indexing
        node = self.node
        template = node.prim.native_for(node)
        name = template.split("(", 1)[0]
        args = [w.value(v) for v in self.args]
        out = w.produce(node.out, w.buffer(node.out))
        status = w.const(np.zeros(3, np.int64), "status")
        call = template.replace(name, w.const(getattr(indexing, name), name), 1)
        w.emit(call.format(*args, out=out, status=status))
        w.emit(f"if {status}[0] != 0:")
        w.emit(f"    {w.const(raise_check, 'raise_check')}({w.const(node, 'check')}, {status})")

    def _impl(self, w):
        node = self.node
        args = ", ".join(w.value(v) for v in self.args)
        attrs = w.const(node.attrs, "attrs")
        w.produce(node.out, f"{w.const(run_impl, 'run_impl')}({w.const(node.prim, 'prim')}, "
                            f"[{args}], {attrs}, {w.const(self.aval, 'aval')}, "
                            f"{w.const(node.loc, 'loc')})")


# The cpu backend's lowering table: how an op group runs, by its primitive's registry
# `lowering` (loop groups are LoopSteps; a "loop" primitive fusion left alone, such as a
# reduction of bools, runs by its impl).
OP_LOWERING = {"matmul": OpStep._matmul, "fill": OpStep._fill, "size": OpStep._size,
               "view": OpStep._view, "impl": OpStep._impl, "loop": OpStep._impl,
               "native": OpStep._native}


def _macs(node):
    """A matmul's multiply-adds (its batch dimensions included)."""
    a, b = node.inputs
    return _numel(node.out.shape) * a.shape[-1]


def _count_attrs(node):
    return {k: node.attrs[k] for k in ("shape", "axis", "correction")}


def _transpose_source(producers, v):
    """(x, True) when v is x transposed in 2-D (the matmul can read x.T), else (v, False)."""
    n = producers.get(v)
    if n is not None and n.prim is P.transpose and tuple(n.attrs["perm"]) == (1, 0):
        return n.inputs[0], True
    return v, False


def build(graph, keep=None):
    if cuda._STATE.get("used"):   # tensors were put on CUDA in this process: follow their device
        from .device import ByDevice
        return ByDevice(graph, keep)
    return CpuProgram(graph, keep)


def build_once(graph, keep=None):
    """A program for a graph that runs once (a trace that describes one call, with a large
    interpretation: runtime/compiled.py): compiled at once, its loops serial, never native.
    Serial loops compile faster than parallel ones, and get machine-code entries, so a warm
    process runs it from the disk cache without importing Numba."""
    if cuda._STATE.get("used"):
        return build(graph, keep)
    return CpuProgram(graph, keep, serial=True)


class CpuProgram(Program):
    backend = "cpu"
    native_ok = False      # may become one native function (set per program; never on CUDA)
    shared = {}            # value -> the value whose workspace buffer it uses (not on CUDA)
    exported = None        # the values run() leaves in env (None: every value)
    warming = None         # warmup.Warmup while some loop kernels are not loaded yet

    def __init__(self, graph, keep=None, materialize_all=False, serial=False):
        # materialize_all (check mode): every value the program computes is left in env, no
        # value is computed into an input's buffer, and no native whole-program function.
        # serial (build_once): no loop on threads, no native function, nothing interpreted.
        self._adopt(compile_graph(graph, "cpu", keep, materialize_all, serial=serial))
        self.materialize_all = materialize_all
        self.serial = serial
        # What run() leaves in env (programs/program.py): the values a caller reads, or every
        # value when the caller's reads are unknown (keep None) or all checked
        self.exported = None if materialize_all or keep is None else (
            set(self.leaving) | {b for _, b in self.aliases})
        self.native_ok = not (materialize_all or serial) and self._native_ok()
        if self.native_ok and native_mode() == "always":
            self.native = self._native()
        self.steps = [] if self.native else self._steps()
        self.interpreted_runs = INTERPRETED_RUNS if (
            self.native_ok and native_mode() == "hot" and not config.first_call_compiles()) else 0
        self.building = None    # the NativeCall of a promotion waiting for a helper's build
        self.helped = None      # the native program's kernel a helper was started on
        # CPU seconds of the interpreted runs timed so far, until the helper is decided on
        self.timed_runs = [] if self.interpreted_runs else None

    def _adopt(self, record):
        """Run what the pipeline's record says (stepjit/pipeline.py): its optimized graph,
        fusion groups, values that leave the program, in-place plan, shared buffers, kernels."""
        self.record = record
        self.source_graph = record.source
        self.graph = record.graph
        self.aliases = output_aliases(self.source_graph, self.graph)
        self.fused = record.fused
        self.producers = {n.out: n for n in self.graph.nodes}
        self.leaving = record.leaving
        self.inplace = record.inplace
        self.shared = record.shared
        self.workspace = {}
        self.native = None
        self.straight = self.straight_text = None    # the steps as one function (straight_line.py)

    def _steps(self):
        steps = [LoopStep(k, self) if g.kind == "loop" else OpStep(g.nodes[0], self)
                 for g, k in zip(self.fused.groups, self.record.kernels)]
        # A matmul reads a 2-D transpose's source as `src.T` (OpStep.transposed): the
        # transpose's own step then runs only if something else reads its result.
        read = set(self.leaving) | set(self.inplace.values())
        for st in steps:
            read.update(st.ins if isinstance(st, LoopStep) else st.reads())
        return [st for st in steps if not (isinstance(st, OpStep) and st.node.prim is P.transpose
                                           and st.node.out not in read)]

    def run(self, env):
        if self.native is None:
            if self.interpreted_runs and not (self.building and self._built()):
                self.interpreted_runs -= 1
                if self.timed_runs is not None:
                    return self._timed_run(env)
                return evaluate(self.source_graph, env)
            if self.building is not None:   # built, or no interpreted runs left: wait for it
                self._go_native()
        env = _Env(env)
        env.program = self
        if self.native is not None:
            self.native.run(env)
        elif self.warming is not None or self.straight is None and self._warm_up(env):
            env = self._warming_run(env)
        elif self.straight is not None:
            env = self.straight(env)
        else:
            # The steps run as one generated function (straight_line.py). The first run's calls each
            # kernel through its first-call wrapper, which loads or compiles it; then the
            # function is written again over what runs each kernel (kernels.Kernel.fastest).
            first, _ = StraightWriter(self).build(self.steps)
            compile_helper.start(predicted_calls(self, env))
            try:
                env = first(env)
            finally:
                compile_helper.finish()
            self.straight, self.straight_text = StraightWriter(self).build(self.steps)
            self.straight = threads.wrap(self.straight, self._threads())
        for a, b in self.aliases:
            env[a] = env[b]
        return env

    def _warm_up(self, env) -> bool:
        """Before the first run: give each loop step whose kernel is not loaded a stand-in that
        runs its group interpreted until the kernel is loaded or compiled (warmup.py), and
        start the compile helper on them. False where every kernel compiles now: check mode,
        a one-shot program, STEPJIT_FIRST_CALL=compile, or no kernel left to load."""
        if self.materialize_all or self.serial or config.first_call_compiles() \
                or not warmup.ENABLED:
            return False
        state = warmup.Warmup([])
        for st in self.steps:
            if not isinstance(st, LoopStep) or st.kernel.fastest() is not st.kernel:
                continue
            nodes = warmup.group_nodes(st, self.producers)
            if nodes is not None:
                st.pending = warmup.PendingKernel(st, nodes, state)
                state.pending.append(st.pending)
        if not state.pending:
            return False
        compile_helper.start(predicted_calls(self, env))
        self.warming = state
        self.straight, self.straight_text = StraightWriter(self).build(self.steps)
        return True

    def _warming_run(self, env):
        """A run while kernels are pending; after the run that loaded the last, the function
        is written again without stand-ins (and on its thread chooser), as a first run leaves
        it."""
        state = self.warming
        state.begin()
        env = self.straight(env)
        if state.done():
            for st in self.steps:
                if isinstance(st, LoopStep):
                    st.pending = None
            self.warming = None
            self.straight, self.straight_text = StraightWriter(self).build(self.steps)
            self.straight = threads.wrap(self.straight, self._threads())
        return env

    @property
    def settling(self) -> bool:
        return self.warming is not None or self.building is not None

    def promote(self) -> bool:
        """The runtime found this program hot: run it as one native function from now on, if it
        is small enough (STEPJIT_NATIVE). True when it changed."""
        if self.native is not None or not self.native_ok or native_mode() != "hot" \
                or self.building is not None:
            return False
        call = self._native()
        if self.helped is not None and compile_helper.building(self.helped):
            self.building = call     # a helper is building it: run on interpreted meanwhile
            return False
        self.native = call
        return True

    def _built(self) -> bool:
        """Has the helper building the promoted native program finished (or gone)?"""
        return not compile_helper.building(self.helped)

    def _go_native(self):
        """Run the promoted program natively from now on (what the helper stored is loaded, or,
        with interpreted runs spent, waited for), and tell the runtime, whose fast calls ran
        this program as a whole (program.NATIVE_READY)."""
        self.native, self.building = self.building, None
        for callback in list(NATIVE_READY):
            callback()

    def _timed_run(self, env):
        """An interpreted run of a program bound to go native when hot, timed (CPU seconds) until
        TIMED_RUNS are: the helper is decided on by what they cost (_prepare_native)."""
        start = time.process_time()
        env = evaluate(self.source_graph, env)
        self.timed_runs.append(time.process_time() - start)
        if len(self.timed_runs) >= TIMED_RUNS:
            # (the fastest: the first run also pays for what NumPy sets up once)
            seconds, self.timed_runs = min(self.timed_runs), None
            self._prepare_native(seconds)
        return env

    def _prepare_native(self, seconds):
        """A program that goes native when hot, after its first interpreted runs (`seconds` of
        CPU each): a helper process may build the native program while it runs interpreted
        (codegen/compile_helper.py: start_program), where those runs until its promotion
        take long enough to hide the helper's start (helps_program)."""
        if len(self.fused.groups) <= PACKED_MAX_GROUPS \
                and compile_helper.helps_program(seconds * HOT_REUSE):
            src = self.native_source()[0]
            packed, _ = get_module_function(src.source(), "program_packed",
                                            entry_first=not src.boxed)
            if compile_helper.start_program(packed, src.given_specs()):
                self.helped = packed

    def _native_ok(self):
        """Every op can run in nopython mode (matmuls of any size where BLAS was found,
        codegen/blas.py), and the program is tiny, or short with no loop large enough to run
        on threads (a native program's loops are serial): then one Numba function for the
        whole program removes the Python between kernels, which is all the cost of a tiny
        step and ~10 us of the B1 step's."""
        from ..codegen import blas, native_program as native
        if native_mode() == "never" or not native.supports(self.fused, blas.gemm()):
            return False
        largest = max((_numel(n.out.shape) for n in self.graph.nodes), default=0)
        return largest <= NATIVE_SMALL_ELEMENTS or (
            largest < PARALLEL_MIN and self.native_kernels() <= NATIVE_MAX_KERNELS)

    def native_kernels(self) -> int:
        """How many distinct loop kernels the native program would compile."""
        return len(self.native_source()[0].kernel_functions())

    def native_source(self):
        """(ProgramSource, ins, outs): the whole program as one native function's source, as
        `_native` builds it (also for `stepjit dump --stage kernels`); nothing is compiled."""
        return self.record.native_source()

    def _native(self):
        src, ins, outs = self.native_source()
        body = src.source()
        # (a program returning arrays cannot have a machine-code entry: kernels.ProgramKernel)
        fn, self.native_text = get_module_function(body, "program", entry_first=not src.boxed)
        packed = None
        if len(self.fused.groups) <= PACKED_MAX_GROUPS:
            packed, _ = get_module_function(body, "program_packed", entry_first=not src.boxed)
        chooser = self._threads()      # (its loops are serial: only BLAS may use threads)
        fn, packed = threads.wrap(fn, chooser), threads.wrap(packed, chooser)
        views = {n.out for g in self.fused.groups if g.kind == "op" for n in g.nodes if n.prim.view}
        fresh = {v for v in outs if v not in ins and v not in views}   # computed, not passed
        held = [(v, np.empty((), v.dtype.np)) for v in src.held]
        workspace = [np.empty(shape, dtype) for shape, dtype in src.workspace]
        dims = np.array(src.dim_values(), dtype=np.int64)
        buffer = {f"w{k}": b for k, b in enumerate(workspace)}
        buffer.update((f"h{k}", b) for k, (_, b) in enumerate(held))
        # each flag read as memoryview[0]: a third of the time of a 0-d array's [()] (~0.35 us);
        # an index check's status (flag, input, value) is three int64s
        checks = [(node, memoryview(buffer[name].reshape(-1))) for node, name in src.checks]
        given = tuple((tuple(v.shape), v.dtype.np) for v in src.given)
        return NativeCall(fn, ins, src.returned, held, workspace, dims, self.inplace, fresh, packed,
                          checks, given)

    def _threads(self):
        """The threads.Chooser of this program's thread count, or None when no matmul is large
        enough for BLAS to split and no loop runs in parallel."""
        blas = any(n.prim.lowering == "matmul" and n.out.dtype.np.kind == "f"
                   and _macs(n) >= threads.BLAS_THREADS_MIN_MACS for n in self.graph.nodes)
        loops = self.native is None and any(k.parallel for k in self.record.kernels
                                            if k is not None)
        return threads.chooser(blas, loops)

    def direct_plan(self):
        """(NativeCall, rename) for a runtime that calls the native function itself (fastcall.py);
        rename maps this program's values to the caller's. None when there is no native one."""
        if self.native is None:
            return None
        if not self.aliases:
            return self.native, _same
        source = {b: a for a, b in self.aliases}
        return self.native, lambda v: source.get(v, v)

    # -- memory planning ----------------------------------------------------------------
    empty = staticmethod(np.empty)   # where buffers live: the CUDA program allocates on device

    def allocation(self, v):
        """Where v's array comes from: ("input", the value whose buffer it is computed into),
        ("fresh", None) for a new array each call (it leaves the program), or ("buffer", the
        workspace array kept between calls)."""
        target = self.inplace.get(v)
        if target is not None:
            return "input", target
        if v in self.leaving:
            return "fresh", None
        buf = self.workspace.get(v)
        if buf is None:
            owner = self.shared.get(v, v)     # passes/memory.py: a buffer a dead value held
            buf = self.workspace.get(owner)
            if buf is None:
                buf = self.workspace[owner] = self.empty(v.shape, v.dtype.np)
            self.workspace[v] = buf
        return "buffer", buf

    def allocator(self, v):
        """allocation(v) as a function of env."""
        kind, what = self.allocation(v)
        if kind == "input":
            return lambda env: env[what]
        if kind == "buffer":
            return lambda env: what
        shape, dtype, empty = v.shape, v.dtype.np, self.empty
        return lambda env: empty(shape, dtype)

    @property
    def is_native(self) -> bool:
        return self.native is not None

    def kernel_sources(self):
        return [s.source for s in self.steps if isinstance(s, LoopStep)]
