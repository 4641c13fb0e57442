"""A whole small program as one Numba function: no Python between kernels.

For graphs whose every group can run in nopython mode, the fused loop kernels,
matmuls, views and constants are emitted into one module whose `program(...)`
takes the input arrays and returns the values the runtime needs. A float matmul
calls BLAS's gemm, through the address codegen/blas.py finds (passed in `dims`,
called by codegen/gemm.py), unless it is tiny (a call costs ~0.15 us, a loop of
a few MACs less) or BLAS can't read an operand in place; other matmuls are
generated loops, and without BLAS a program with a large matmul is not native.
Sizes are not baked in: every distinct size is read from a `dims` argument, so
another batch size reuses the compiled program when its structure is the same
(unless a matmul crosses BLAS_MIN_MACS, which changes the source).

The program allocates nothing it keeps to itself: every intermediate array (a loop's or
a matmul's output, a filled constant, a loop's partial-reduction accumulator) is a
*workspace* buffer `w0, w1, ...` the runtime allocates once and passes after the held
0-dim buffers, and a 0-dim value the runtime copies out is computed straight into its
held buffer `h<k>`. Only values returned to the caller, and the arrays they are views
of, are made per call (a caller keeps them): by the caller, who passes them (`r0, ...`) where
the program computes every one into a buffer, else by the program. Allocating nothing is what
lets `program_packed` run as a machine-code entry with no Numba runtime in the process
(codegen/kernels.py, machine_cache.py); a program that still allocates (returns a view of
what it computes, copies a non-contiguous view to reshape it) keeps Numba's dispatcher. A concatenation copies
its parts into its buffer and an expand is a view (codegen/indexing.py, pointers.py): Numba's
np.concatenate and np.broadcast_to would allocate, and compile generic functions of their own
in every process (W6's three 16-part concatenations: 4.5 s).
Like CpuProgram's own workspace, this makes one program object non-reentrant: two
threads must not run the same program at once.

A run of groups that repeats (an unrolled RNN's steps) is emitted once, as a function the
program calls per repetition with its buffers (codegen/repeats.py): Numba's and LLVM's time
grows with the length of the function they compile.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from ..ir.graph import Value
from ..ir.primitives.indexing import format_key
from ..ir.primitives.reductions import count
from ..passes.memory import computed_into_buffers, share_buffers
from .inlined import inline_kernels
from .loops import LoopSource, literal
from .repeats import outline

MAX_MATMUL_MACS = 1 << 16     # above this, a generated loop is too slow: BLAS, or no program
BLAS_MIN_MACS = 1 << 9        # from this size a float matmul calls BLAS (2x faster at 512)
# Rows shorter than this gain nothing from vectorizing, so a loop that reduces along them is
# not split in two (codegen/loops.py): one pass computes each element once, not twice.
SPLIT_MIN_ROW = 16
# A loop kernel the program calls once, over at most this many elements, is inlined into
# `program` (Numba's inline="always"): a call passes each array as a struct of 5 + 2*ndim
# words and increfs it, ~20-30 ns, as much as such a loop's work (W4's four loops: ~90 ns of
# a ~400 ns program). Shared kernels (an unrolled RNN's steps) and large loops stay calls.
INLINE_MAX_ELEMENTS = 1 << 10
# CPython compiles a call of more arguments than this as f(*args), which Numba cannot inline.
INLINE_MAX_ARGS = 30
_COMMENT = re.compile(r"\s+#.*$", re.M)    # a kernel's comments name the IR values it computes
# Numba makes a C-ABI wrapper of every function it compiles (a cfunc's), and a CPython wrapper
# (unboxing each argument) of every function unless told not to: the program is called from
# Python (or through its machine-code entry, which never uses either wrapper), its loop
# kernels only from the program. Each wrapper is lowered and optimized by LLVM like the rest.
# The program's library links its loop kernels (and gemm, the index helpers) after LLVM has
# optimized the rest, not before: their code is optimized already (codegen/program_library.py).
_JIT_PROGRAM = ('@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True, '
                'pipeline_class=ProgramCompiler)')
_JIT_KERNEL = ('@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True, '
               'no_cpython_wrapper=True, pipeline_class=KernelCompiler)')
_IMPORTS = ("from stepjit.codegen.pointers import array_at, broadcast_view, empty_array, reshaped\n"
            "from stepjit.codegen.program_library import KernelCompiler, ProgramCompiler\n")
_MATMUL_IMPORT = "from stepjit.codegen.gemm import matmul_loops\n"
_GEMM_IMPORT = "from stepjit.codegen.gemm import as_any, gemm\n"
# (named, not imported here: a warm process runs cached machine code without importing Numba)
_INDEX_IMPORT = ("from stepjit.codegen.indexing import arange_into, concat_part, put1, put2, put3, "
                 "put_window, take1, take2, take3, take_window\n")


def supports(fused, gemm=None) -> bool:
    """Can every group run in one Numba function? `gemm` (codegen/blas.py), when there is
    one, lets a float matmul of any size in (through BLAS); without it only small ones."""
    for g in fused.groups:
        if g.kind == "loop":
            continue
        n = g.nodes[0]
        prim = n.prim
        if prim.lowering == "matmul":
            a, b = n.inputs
            if a.ndim != 2 or b.ndim != 2:
                return False
            if _macs(n) > MAX_MATMUL_MACS and not (gemm and _blas_dtype(n)):
                return False
        elif prim.lowering not in ("fill", "size") and prim.native_for(n) is None:
            return False        # no native form in the registry entry, or not for this node
    return True


def _macs(node):
    a, b = node.inputs
    return a.shape[0] * a.shape[1] * b.shape[1]


def _blas_dtype(node):
    return node.out.dtype.np.name in ("float32", "float64")


class ProgramSource:
    def __init__(self, fused, ins, outs, inplace, gemm=None):
        self.fused = fused
        self.gemm = gemm                # codegen/blas.py's Gemm: matmuls through BLAS
        self.ins = list(ins)
        self.outs = list(outs)
        self.inplace = inplace          # Value -> input Value whose buffer it is written into
        self.names = {v: f"i{k}" for k, v in enumerate(self.ins)}
        # Distinct sizes, in order of first use; "sgemm"/"dgemm" stand for a gemm's address,
        # passed like a size (dim_values) so that the compiled code holds no address.
        self.dims = []
        self.kernels = []
        self._text = None
        self.kernel_names = {}          # a loop kernel's code (no comments) -> its function
        self.kernel_calls = {}          # its function -> [groups calling it, largest size, most args]
        # Values computed into an input's buffer are not returned: boxing an array costs
        # more than the rest of a tiny step; the runtime already holds that buffer. Nor are
        # 0-dim values (a loss): the program stores each into a buffer the runtime passes
        # (`h0, ...` after the inputs) and copies; a returned float cost more (boxed, then
        # made an array).
        self.held = [v for v in self.outs if v.ndim == 0 and v not in inplace]
        self.returned = [v for v in self.outs if v not in inplace and v not in self.held]
        # Values returned, and every value they are a view of: a caller keeps them, so they
        # are allocated per call, never workspace (nor a held buffer) overwritten next call.
        self.per_call = _viewed(fused, self.returned)
        self.workspace = []             # (shape, dtype name) of w0, w1, ... in order
        # Intermediates whose lifetimes do not overlap share a workspace buffer (passes/memory.py)
        # (a check's flag keeps its buffer: the caller reads it after the program)
        checks = {n.out for n in fused.graph.nodes if n.prim.check}
        # ops whose native form writes {out}: computed into a buffer, like a loop's results
        self.writers = _writers(fused)
        into = computed_into_buffers(fused.groups) | {n.out for n in self.writers}
        # Returned values the program computes into arrays its caller gives it (`r0, ...`
        # after the workspace), a new one each call: then it returns nothing and so runs as
        # its machine-code entry (codegen/kernels.py: ProgramKernel), compiled with neither
        # of Numba's wrappers, and no array is boxed on its way out. Where one is a view or
        # not computed into a buffer (another op's own array), all are returned as before.
        self.given = list(self.returned) if self.per_call == set(self.returned) \
            and self.per_call <= into else []
        owned = into - set(inplace) - self.per_call - set(self.held) - checks
        # values computed straight into their slice of a stack's buffer: {value: (stack, k)}
        # and the reshapes that made them the stack's parts (not emitted: nothing reads them)
        self.stacked, self.part_views = _stacked(fused, owned, self.outs)
        self.stacks = {whole for whole, _ in self.stacked.values()}
        owned -= set(self.stacked) | self.stacks     # a stack's buffer is its own from its first part
        self.shared = share_buffers(fused.groups, owned, self.outs)
        self.buffers = {}               # owner value (shared's values) -> its workspace name
        self.computed_held = set()      # held values computed straight into their buffer
        self._blas = False              # some matmul calls BLAS (the module imports gemm.py)
        self.checks = []                # (check node, its flag's buffer name): see _loop, _op
        # The program may stop early (`return ()`) where a check fails: then it returns nothing
        self.stops_early = any(n.prim.check for n in fused.graph.nodes) or any(
            "{status}" in t for t in self.writers.values())

    def _dim(self, n):
        if n not in self.dims:
            self.dims.append(n)
        return f"dims[{self.dims.index(n)}]"

    def dim_values(self):
        """The `dims` argument: the sizes, and the gemm addresses where a matmul uses BLAS."""
        return [getattr(self.gemm, d) if isinstance(d, str) else d for d in self.dims]

    def _shape(self, shape):
        return "(" + "".join(self._dim(d) + ", " for d in shape) + ")"

    def _name(self, v):
        if v not in self.names:
            self.names[v] = f"v{len(self.names) - len(self.ins)}"
        return self.names[v]

    def _alloc(self, v):
        """Where v is computed: its input's buffer, a new array (it leaves the program), its held
        buffer or a workspace buffer."""
        if v in self.inplace:
            return self._name(self.inplace[v])
        if v in self.given:
            return f"r{self.given.index(v)}"
        if v in self.per_call:
            return f"empty_array({self._shape(v.shape)}, np.{v.dtype.np.name})"
        if v in self.held:
            self.computed_held.add(v)
            return f"h{self.held.index(v)}"
        if v in self.stacked:
            whole, k = self.stacked[v]
            return f"{self._alloc(whole)}[{k}]"
        owner = self.shared.get(v, v)
        if owner not in self.buffers:
            self.buffers[owner] = self._work(v.shape, v.dtype.np.name)
        return self.buffers[owner]

    def _work(self, shape, dtype):
        """A new workspace parameter of this shape (sizes as in the graph) and dtype."""
        self.workspace.append((tuple(shape), dtype))
        return f"w{len(self.workspace) - 1}"

    def _early_return(self):
        """What the program returns when a check stops it: its results as they stand (the
        caller raises before reading them)."""
        return "return (" + "".join(self._name(v) + ", " for v in self.boxed) + ")"

    @property
    def boxed(self):
        """The values the program returns (those it is not given arrays for)."""
        return [] if self.given else self.returned

    def given_specs(self):
        """[(dtype name, ndim)] of the arrays the caller gives the program for its results."""
        return [(v.dtype.np.name, v.ndim) for v in self.given]

    def _placeholders(self):
        """Empty arrays standing for the results an early return returns before they are
        computed (Numba types the variable as both; the caller raises instead of reading it)."""
        if not (self.stops_early and self.boxed):
            return []
        return [f"{self._name(v)} = empty_array({(0,) * v.ndim}, np.{v.dtype.np.name})"
                for v in self.boxed if v not in self.ins]

    def kernel_functions(self):
        """The distinct loop kernel functions of the program (generates its source), those
        written into the program's own lines included (Numba compiles their code all the same)."""
        self.source()
        return list(self.distinct)

    def source(self):
        """The program's module text, generated on first use (generating it fills the
        workspace, dims and checks the runtime reads)."""
        if self._text is None:
            self._text = self._generate()
        return self._text

    def _generate(self):
        units = [self._loop(g) if g.kind == "loop" else self._op(g.nodes[0])
                 for g in self.fused.groups if g.nodes[0].out not in self.part_views]
        # repeated runs of groups (an unrolled RNN's steps) become one function called per run
        lines, repeated = outline(units)
        lines, repeated = self._inline(lines, repeated)
        self.repeated = [f"{_JIT_KERNEL}\n{text}" for text in repeated]
        body = self._placeholders() + lines
        body += [f"h{k}[()] = {self._name(v)}[()]" for k, v in enumerate(self.held)
                 if v not in self.computed_held]
        self.kernels = [self._decorated(k) for k in self.kernels]
        outs = "".join(self._name(v) + ", " for v in self.boxed)
        params = "".join(p + ", " for p in self._params())
        head = f"{_JIT_PROGRAM}\ndef program({params}dims):"
        head += "".join(f"\n    # dims[{k}]: the address of BLAS's cblas_{d} (codegen/blas.py)"
                        for k, d in enumerate(self.dims) if isinstance(d, str))
        matmul = [_MATMUL_IMPORT]
        if self._blas:
            matmul.append(_GEMM_IMPORT)
        if self.writers:
            matmul.append(_INDEX_IMPORT)
        body.append(f"return ({outs})")
        lines = ["    " + b for b in _sizes_named(body)]
        return "\n".join([_IMPORTS] + self.kernels + matmul + self.repeated + [head] + lines
                          + self._packed(body)) + "\n"

    def _params(self):
        return ([f"i{k}" for k in range(len(self.ins))] + [f"h{k}" for k in range(len(self.held))]
                + [f"w{k}" for k in range(len(self.workspace))] + self._given_params())

    def _given_params(self):
        return [f"r{k}" for k in range(len(self.given))]

    def _packed(self, body):
        """`program_packed(p, r0, ..., dims)`: the program (its lines: `body`) on inputs, held
        and workspace buffers given by their addresses p[k] (codegen/pointers.py says why), and
        on the arrays given for its results, passed as they are (new each call: packing them
        would cost more). It holds the program's body rather than calling `program`: Numba
        would compile `program` too, then link it in and have LLVM optimize the whole again
        (half as long as compiling the program), and the runtime calls `program` only for
        arrays the packed form cannot describe (programs/cpu.py, NativeCall), so one compile
        serves a program's calls."""
        arrays = [(v.shape, v.dtype.np.name) for v in self.ins + self.held] + self.workspace
        made = [f"{name} = array_at(p, {k}, {self._shape(shape)}, np.{dtype})"
                for k, (name, (shape, dtype)) in enumerate(zip(self._params(), arrays))]
        given = "".join(r + ", " for r in self._given_params())
        return ["", _JIT_PROGRAM, f"def program_packed(p, {given}dims):"] + [
            "    " + line for line in _sizes_named(made + body)]

    def _loop(self, g):
        split = bool(g.shape) and g.shape[-1] >= SPLIT_MIN_ROW
        # An output computed into one of the loop's inputs is stored through that input, as in
        # CpuProgram's loops: the same buffer passed twice makes LLVM's overlap check fail at run
        # time, and the loop run scalar.
        inplace = {v: self.inplace[v] for v in g.outputs if self.inplace.get(v) in g.inputs}
        loop = LoopSource(g, self.fused.constants, False, inplace, split)
        for v in loop.inplace:
            self.names[v] = self._name(self.inplace[v])
        fname = self._kernel(loop.source("loop"))
        where = {v: self._alloc(v) for v in loop.outputs}
        lines = [f"{self._name(v)} = {where[v]}" for v in loop.outputs]
        args = [self._name(v) for v in loop.arrays] + [self._name(v) for v in loop.outputs]
        args += [self._dim(d) for d in g.shape]
        args += [self._work(shape, dtype) for shape, dtype in loop.given]
        lines.append(f"{fname}({', '.join(args)})")
        calls = self.kernel_calls.setdefault(fname, [0, 0, 0])
        calls[:] = calls[0] + 1, max(calls[1], math.prod(g.shape)), max(calls[2], len(args))
        for n in g.nodes:
            if n.prim.check:   # stop before any later group writes; the caller raises
                self.checks.append((n, where[n.out]))
                lines.append(f"if {self._name(n.out)}[()] > 0:")
                lines.append(f"    {self._early_return()}")
        return lines

    def _kernel(self, src):
        """The name of the loop kernel with this code (`def loop(...)`): structurally equal
        groups (the 16 steps of an unrolled RNN) share one function, so Numba compiles it once."""
        code = _COMMENT.sub("", src)
        fname = self.kernel_names.get(code)
        if fname is None:
            fname = self.kernel_names[code] = f"loop{len(self.kernels)}"
            self.kernels.append(src.replace("def loop(", f"def {fname}(", 1))
        return fname

    def _inline(self, lines, repeated):
        """(lines, repeated functions' texts) with calls replaced by the called kernel's own lines
        (codegen/inlined.py), those kernels dropped from the module: in the program's lines,
        the kernels one small group calls; in a repeated run's function, the kernels called
        there and nowhere else (an unrolled RNN's cell: one function to compile, not two;
        the run's function is compiled and optimized as a kernel is)."""
        self.distinct = list(self.kernels)
        kernels = {self._fname(src): src for src in self.kernels}
        sites = Counter(m[1] for text in [lines] + repeated
                        for m in re.finditer(r"\b(loop\d+)\(", "\n".join(text) if text is lines
                                             else text))
        small = {k: src for k, src in kernels.items() if self._inlined(k)}
        lines, done = inline_kernels(lines, small)
        runs = []
        for text in repeated:
            alone = {k: src for k, src in kernels.items() if sites[k] == 1 and f"{k}(" in text}
            text_lines, written = inline_kernels(text.split("\n"), alone)
            runs.append("\n".join(text_lines))
            done |= written
        self.kernels = [src for src in self.kernels if self._fname(src) not in done]
        return lines, runs

    @staticmethod
    def _fname(src):
        return src.split("def ", 1)[1].split("(", 1)[0]

    def _inlined(self, fname):
        """Is the kernel `fname` called by one group, over few elements and arguments?"""
        calls, largest, args = self.kernel_calls[fname]
        return calls == 1 and largest <= INLINE_MAX_ELEMENTS and args <= INLINE_MAX_ARGS

    def _decorated(self, src):
        """A kernel's text with its decorator: inlined where one small group calls it."""
        inline = ', inline="always"' if self._inlined(self._fname(src)) else ""
        return f'{_JIT_KERNEL[:-1]}{inline})\n' + src

    def _op(self, node):
        """An op group's lines: a matmul or a fill here, anything else from the registry
        entry's `native` template."""
        out = self._name(node.out)
        a = [self._name(v) if isinstance(v, Value) else repr(v) for v in node.inputs]
        if node.prim.lowering == "matmul":
            if self.gemm and _blas_dtype(node) and _macs(node) >= BLAS_MIN_MACS:
                self._blas = True
                fn = self._dim("sgemm" if node.out.dtype.np.name == "float32" else "dgemm")
                return [f"{out} = {self._alloc(node.out)}",
                        f"gemm(as_any({a[0]}), as_any({a[1]}), as_any({out}), {fn}, "
                        f"np.int{self.gemm.int_bits})"]
            return [f"{out} = {self._alloc(node.out)}", f"matmul_loops({a[0]}, {a[1]}, {out})"]
        if node.prim.lowering == "fill":
            dt = node.attrs["dtype"]
            return [f"{out} = {self._alloc(node.out)}", f"{out}[...] = {literal(node.attrs['value'], dt)}"]
        if node.prim.lowering == "size":   # read from `dims`, so the source holds no size
            n = count(node.attrs["shape"], node.attrs["axis"], node.attrs["correction"])
            ctor = f"np.{node.out.dtype.np.name}"
            text = self._dim(n) if n == int(n) else repr(n)   # (a fractional correction)
            return [f"{out} = {self._alloc(node.out)}", f"{out}[()] = {ctor}({text})"]
        if node.out in self.stacks:        # its parts were computed in place
            return [f"{out} = {self._alloc(node.out)}"]
        attrs = {k: self._attr_text(k, v) for k, v in node.attrs.items()}
        template = node.prim.native_for(node)
        if node not in self.writers:
            return [f"{out} = " + template.format(*a, xs=", ".join(a), **attrs)]
        lines = [f"{out} = {self._alloc(node.out)}"]
        status = self._work((3,), "int64") if "{status}" in template else None
        lines.append(template.format(*a, xs=", ".join(a), out=out, status=status, **attrs))
        if status is not None:   # an index out of range: stop, the caller raises (ir/impl.py)
            self.checks.append((node, status))
            lines += [f"if {status}[0] != 0:", f"    {self._early_return()}"]
        return lines

    def _attr_text(self, name, value):
        """An attribute as a native template reads it: sizes through `dims`, index keys as
        Python indexing (basic only: `native_when` refuses tensor keys)."""
        if name == "shape":
            return self._shape(value)
        if name == "key":
            return format_key(value) if value else "[...]"
        return repr(value)


_SIZE = re.compile(r"\bdims\[(\d+)\]")


def _sizes_named(lines):
    """A function body's `lines` with each size `dims[k]` read once, into `dim<k>`, at its top:
    Numba lowers every `dims[k]` as an array read of its own (a static getitem that it first
    tries to resolve at compile time, then the array's struct loaded and indexed), ~1 ms of
    typing and lowering each and as much IR for LLVM to clean up; W6's program read them ~250
    times (its 89 buffers' shapes, every loop's bounds). `dims` itself is still passed to the
    functions the program calls."""
    used = sorted({int(k) for line in lines for k in _SIZE.findall(line)})
    return [f"dim{k} = dims[{k}]" for k in used] + [_SIZE.sub(r"dim\1", line) for line in lines]


def _writers(fused):
    """{node: its native template} for the op groups whose template writes into {out}."""
    out = {}
    for g in fused.groups:
        node = g.nodes[0]
        if g.kind != "op" or node.prim.lowering in ("matmul", "fill", "size"):
            continue
        template = node.prim.native_for(node)
        if template is not None and "{out}" in template:
            out[node] = template
    return out


def _stacked(fused, owned, outs):
    """({value: (stack, k)}, {part view}) for the values computed only to be stacked: the k-th
    part of a concatenation along axis 0 of reshapes that put a dimension of 1 in front
    (torch.stack; an unrolled RNN's per-step weight gradients, stacked to be summed), each
    reshape read by the concatenation alone, and not 0-dim (`w[k]` of a vector is a number, not
    a buffer). Such a value is computed straight into the stack's buffer at [k], so the
    concatenation copies nothing (W6: three 16-part stacks, 48 copies and reshapes, and a
    workspace buffer per part, fewer)."""
    uses = {}
    for g in fused.groups:
        for n in g.nodes:
            for x in n.inputs:
                if isinstance(x, Value):
                    uses.setdefault(x, []).append(n)
    views = {g.nodes[0].out: g.nodes[0] for g in fused.groups if g.kind == "op"}
    outs = set(outs)
    stacked, part_views = {}, set()
    for g in fused.groups:
        node = g.nodes[0]
        if g.kind != "op" or node.prim.name != "concat" or node.out not in owned \
                or node.attrs["axis"] % node.out.ndim != 0:
            continue
        parts = {}
        for k, p in enumerate(node.inputs):
            view = views.get(p)
            src = view.inputs[0] if view is not None and view.prim.name == "reshape" else None
            if src is None or src.ndim == 0 or p in outs or uses.get(p) != [node] \
                    or src not in owned or src in outs or src in parts or src in stacked \
                    or src.dtype != p.dtype or tuple(p.shape) != (1,) + tuple(src.shape):
                break
            parts[src] = (node.out, k)
        else:
            stacked.update(parts)
            part_views.update(node.inputs)
    return stacked, part_views


def _viewed(fused, values):
    """values and every value they are a view of (through the program's view ops)."""
    source = {g.nodes[0].out: g.nodes[0].inputs[0] for g in fused.groups
              if g.kind == "op" and g.nodes[0].prim.view}
    out = set()
    for v in values:
        while v not in out:
            out.add(v)
            v = source.get(v, v)
    return out
