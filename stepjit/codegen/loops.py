"""Source for one fused loop group: a Numba kernel over the group's iteration shape.

The kernel is shape-generic: sizes arrive as arguments (n0, n1, ...), and only
ranks and which input dims broadcast (size 1) are baked in. Variables have
canonical names (t0, t1, ...) so that two groups with the same structure give
the same source, and so the same cached kernel; every line carries the IR
node it computes as a comment, so the source reads against `stepjit dump`.

    def kernel(a0, a1, o0, o1, n0, n1):
        acc2 = 0.0
        for i0 in prange(n0):
            for i1 in range(n1):
                t0 = a0[i0, i1]
                t1 = a1[0, i1]
                t2 = np.float32(t0 - t1)         # %3 = sub %2, %y
                o0[i0, i1] = t2
                ...
"""
from __future__ import annotations

from ..ir.graph import Node, Value
from ..ir.printer import format_node
from ..ir.types import BOOL, FLOAT

_CTOR = {"float32": "np.float32", "float64": "np.float64", "int64": "np.int64",
         "int32": "np.int32", "bool": "bool", "uint8": "np.uint8", "int8": "np.int8",
         "int16": "np.int16"}
# Elements from which a loop runs on threads (prange). Vectorized, a loop over 2^17 elements
# (the two-layer w1 update) takes ~25 us on one core and gains a few us from a second, while on
# a loaded machine every parallel region may wait a scheduler quantum for its worker (~8 ms
# measured, and OpenMP's spinning workers slowed the BLAS calls beside it 2x): the B1 step
# went from 1.3x to 8.4x its matmuls under load. Threads pay only where the work is far larger
# than such a stall.
PARALLEL_MIN = 1 << 20
# How a loop accumulates each kind of reduction (the registry's `reduce`): the accumulator's
# first value (float, integer) and its update.
# (scalar.maximum/minimum, not Python's max/min: NaN propagates, as in the NumPy impls)
_REDUCE = {"add": (("0.0", "0"), "{acc} += {val}"),
           "max": (("-np.inf", str(-(2 ** 63 - 1))), "{acc} = maximum({acc}, {val})"),
           "min": (("np.inf", str(2 ** 63 - 1)), "{acc} = minimum({acc}, {val})")}


def literal(x, dtype=None) -> str:
    """A typed constant: float32 literals stay float32 (no silent float64 promotion)."""
    if isinstance(x, bool) or x is None:
        return repr(x)
    text = repr(float(x)) if dtype is not None and dtype.category == FLOAT else repr(x)
    if text in ("inf", "-inf", "nan"):
        text = {"inf": "np.inf", "-inf": "-np.inf", "nan": "np.nan"}[text]
    return f"{_CTOR[dtype.name]}({text})" if dtype is not None else text


class LoopSource:
    """Generates the kernel source of a loop group and records its argument order."""

    simd_math = True    # transcendentals through codegen/vmath.py; CUDA keeps math.*
    hoist_constants = True   # typed constants named before the loops (_literal); not on CUDA

    def __init__(self, group, constants, parallel, inplace=None, split=True):
        self.group = group
        self.constants = constants
        self.parallel = parallel
        self.may_split = split   # False: sizes known to be tiny: no split (_split), no flat loop
        self.k = len(group.shape)
        self.names = {}          # Value -> variable name inside the loop
        self.arrays = [v for v in group.inputs]
        # inplace: output -> the input whose buffer it overwrites, element for element. The
        # kernel stores it through that input's own array: given as a separate argument, the
        # same buffer makes LLVM's overlap check fail at run time and the loop run scalar.
        reduced = {n.out for n in group.nodes if n.prim.reduce is not None}
        self.inplace = {v: self.arrays.index(old) for v, old in (inplace or {}).items()
                        if old in self.arrays and v not in reduced}
        self.outputs = [v for v in group.outputs if v not in self.inplace]
        self.accs = {}           # reduction output Value -> accumulator name
        self._sliced = set()     # arrays read through a block's slice (`a0b`), in a split loop
        self._flat = set()       # arrays read through a flat view (`a0f`), in a flat loop
        self.given = []          # (shape, dtype) of each accumulator buffer (`s0, ...`) it takes
        self.hoisted = {}        # typed constant's text -> its name (`c0, ...`)

    def _var(self, v):
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = f"t{len(self.names)}"
        return name

    def _index(self, shape):
        nest = self._nest_index(shape)
        if self._flat and "i" in nest:
            return "i"       # a flat loop reads only arrays of the loop's own shape
        return nest

    def _nest_index(self, shape):
        if not shape:
            return "()"
        r = len(shape)
        idx = ["0" if shape[j] == 1 and self.group.shape[j + self.k - r] != 1 else f"i{j + self.k - r}"
               for j in range(r)]
        return ", ".join(idx)

    def _invariant(self, v):
        # (by the nest's index: inside a flat loop an input broadcast along every dim, such as
        # a (1, 1) factor, is still the value loaded once before the loops)
        return "i" not in self._nest_index(v.shape)

    def _operand(self, x, want=None):
        return self._typed_operand(x, want)[0]

    def _typed_operand(self, x, want=None):
        """(text, dtype): an operand's source and the dtype its value has in the kernel, or
        None where that is Numba's choice (an untyped literal). Every variable holds its IR
        dtype (_expr converts what is not computed in it)."""
        if isinstance(x, Value):
            if x in self.constants:
                c = self.constants[x]
                if isinstance(c, Node):      # computed from sizes (passes/fusion.py): inline
                    return self._expr(c), c.out.dtype
                if isinstance(c, Value):
                    return self._var(c), c.dtype
                return self._literal(c, x.dtype)
            return self._var(x), x.dtype
        return self._literal(x, want)

    def _literal(self, x, dtype):
        """(text, dtype) of a constant: typed by its dtype's constructor where it has one
        (literal), and then, where the kernel hoists constants, named once before the loops
        (`c0 = np.float32(0.5)`): Numba types and lowers each `np.float32(...)` as a function
        call (~2.5 ms of compile each), once per use in the loops otherwise."""
        text = literal(x, dtype)
        if dtype is None or not text.startswith(_CTOR[dtype.name] + "("):
            return text, None       # (a bool, None, or an untyped number)
        if not self.hoist_constants:
            return text, dtype
        name = self.hoisted.get(text)
        if name is None:
            name = self.hoisted[text] = f"c{len(self.hoisted)}"
        return name, dtype

    def _expr(self, node):
        prim = node.prim
        out_dtype = node.out.dtype
        if prim.lowering == "fill":
            return self._literal(node.attrs["value"], out_dtype)[0]
        ops, exact = [], True
        for i, x in enumerate(node.inputs):
            want = out_dtype if (i in prim.casts and out_dtype.category != BOOL) else None
            text, dtype = self._typed_operand(x, want)
            if want is not None and isinstance(x, Value) and x.dtype is not out_dtype:
                text, dtype = f"{_CTOR[out_dtype.name]}({text})", out_dtype
            ops.append(text)
            exact = exact and dtype is out_dtype
        attrs = {k: literal(v) if not hasattr(v, "short") else v for k, v in node.attrs.items()}
        template = prim.expr_for(node)
        if self.simd_math and out_dtype.category == FLOAT:
            template = prim.simd_expr_for(node) or template   # vectorizable (codegen/vmath.py)
        expr = template.format(*ops, **attrs)
        if prim.float_closed and exact and out_dtype.category == FLOAT:
            return expr      # already of out_dtype: a conversion would be one more call to type
        return f"{_CTOR[out_dtype.name]}({expr})"

    # -- reductions -------------------------------------------------------------------
    def _acc_init(self, node):
        floating, integer = _REDUCE[node.prim.reduce][0]
        return floating if node.inputs[0].dtype.category == FLOAT else integer

    def _acc_update(self, node, acc, val):
        return _REDUCE[node.prim.reduce][1].format(acc=acc, val=val)

    def _kept_index(self, node):
        axis = node.attrs["axis"]
        return ", ".join(f"i{d}" for d in range(self.k) if d not in axis)

    def source(self, fname) -> str:
        g = self.group
        reds = [n for n in g.nodes if n.prim.reduce is not None]
        prologue = [line for r in reds for line in self._reduction_prologue(r)]
        params = ([f"a{i}" for i in range(len(self.arrays))] + [f"o{i}" for i in range(len(self.outputs))]
                  + [f"n{d}" for d in range(self.k)] + [f"s{k}" for k in range(len(self.given))])
        body = [f"def {fname}({', '.join(params)}):"] + prologue
        # Inputs read at the same place in every iteration (0-dim, or broadcast along every
        # dim) are loaded once before the loops; Numba's parallel loops cannot index a 0-dim
        # array inside the loop body anyway.
        for i, v in enumerate(self.arrays):
            if self._invariant(v):
                body.append(f"    {self._var(v)} = a{i}[{self._index(v.shape)}]")
        out_pos = {v: i for i, v in enumerate(self.outputs)}
        split = self._split(reds, out_pos)
        if split is None:
            if self._flat_ok(reds):
                self._flat_loop(body, reds, out_pos)
            self._loop_nest(body, reds)
            body += self.element_body("    " * (max(self.k, 1) + 1), reds, out_pos)
        else:
            self._split_loops(body, reds, out_pos, *split)
        for r in reds:
            body += self._reduction_epilogue(r, out_pos[r.out])
        body[1:1] = [f"    {name} = {text}" for text, name in self.hoisted.items()]
        return "\n".join(body) + "\n"

    def element_body(self, ind, reds, out_pos, nodes=None, stores=True):
        """The lines computing one element at index (i0, i1, ...): loads of the inputs that vary,
        one line per node, stores of the outputs. Shared by the CPU loop nest and the CUDA
        kernels (codegen/cuda_kernels.py), which differ only in the loops and index math around it.
        `nodes` (default: the whole group) restricts it to some of the group's nodes, and
        stores=False leaves out the stores (a split loop's reduction half recomputes values)."""
        nodes = self.group.nodes if nodes is None else [n for n in self.group.nodes if n in nodes]
        used = {x for n in nodes for x in n.inputs if isinstance(x, Value)}
        lines = []
        for i, v in enumerate(self.arrays):
            if not self._invariant(v) and v in used:
                lines.append(f"{ind}{self._var(v)} = {self._arr('a', i)}[{self._index(v.shape)}]")
        for node in nodes:
            # The IR line without its type: sizes stay out of the source, so a new batch
            # size gives the same text, the same hash and the same compiled kernel.
            comment = "  # " + format_node(node, show_loc=False).rsplit(" : ", 1)[0]
            if node in reds:
                lines.append(f"{ind}{self._reduce_line(node)}{comment}")
                continue
            lines.append(f"{ind}{self._var(node.out)} = {self._expr(node)}{comment}")
            if not stores:
                continue
            if node.out in out_pos:
                lines.append(f"{ind}{self._arr('o', out_pos[node.out])}[{self._index(node.out.shape)}]"
                             f" = {self._var(node.out)}")
            elif node.out in self.inplace:
                lines.append(f"{ind}{self._arr('a', self.inplace[node.out])}"
                             f"[{self._index(node.out.shape)}] = {self._var(node.out)}")
        return lines

    def _arr(self, prefix, i):
        name = f"{prefix}{i}"
        if name in self._flat:
            return name + "f"
        return name + "b" if name in self._sliced else name

    # -- flat loops: elementwise work over arrays of one shape ------------------------------
    def _flat_ok(self, reds):
        """An elementwise group of rank >= 2 whose every array has the loop's shape (none
        broadcasts) can run as one loop over flat views, when all are C-contiguous at run
        time: the inner loop of a nest is too short to vectorize well (rows of 100 floats:
        the w1 update of the tutorial step ran in 18.5 us nested, 15.7 us flat)."""
        if reds or self.k < 2 or not self.may_split:
            return False
        full = tuple(self.group.shape)
        return (all(self._invariant(v) or tuple(v.shape) == full for v in self.arrays)
                and all(tuple(v.shape) == full for v in self.outputs))

    def _flat_loop(self, body, reds, out_pos):
        """The flat loop, taken when every array is C-contiguous; the loop nest after it stays
        for strided arrays."""
        names = [f"a{i}" for i, v in enumerate(self.arrays) if not self._invariant(v)]
        names += [f"o{i}" for i in range(len(self.outputs))]
        contiguous = " and ".join(f"{n}.flags.c_contiguous" for n in names)
        body.append(f"    if {contiguous}:")
        body.append(f"        n = {' * '.join(f'n{d}' for d in range(self.k))}")
        body += [f"        {n}f = c_view({n}, (n,))" for n in names]
        body.append(f"        for i in {'prange' if self.parallel else 'range'}(n):")
        self._flat = set(names)
        body += self.element_body("            ", reds, out_pos)
        self._flat = set()
        body.append("        return")

    # -- split loops: a reduction along the innermost dim beside elementwise work ----------
    def _split(self, reds, out_pos):
        """(elementwise nodes, reduction nodes) when the innermost loop both stores elementwise
        results and accumulates a reduction along itself, else None. Such an accumulator is a
        dependence carried from one iteration to the next, and without reassociating float
        adds (which would change results) LLVM cannot vectorize any loop holding one: for
        Adam's update with its loss in the same loop, scalar code ran 3x slower. Split, the
        elementwise loop vectorizes, and the reduction loop computes only what it reads."""
        carried = [r for r in reds if self._whole(r) or (self.k - 1) in r.attrs["axis"]]
        roots = [n for n in self.group.nodes if n not in carried
                 and (n in reds or n.out in out_pos or n.out in self.inplace)]
        if self.k == 0 or not carried or not roots or not self.may_split:
            return None
        return self._cone(roots), self._cone(carried)

    def _cone(self, roots):
        """roots and every node of the group they read, transitively."""
        producer = {n.out: n for n in self.group.nodes}
        out, stack = set(), list(roots)
        while stack:
            n = stack.pop()
            if n not in out:
                out.add(n)
                stack.extend(producer[x] for x in n.inputs if x in producer)
        return out

    def _split_loops(self, body, reds, out_pos, first, second):
        if self.k == 1:
            self._blocks(body)
            head, size = "        ", "hi - lo"
        else:
            self._loop_nest(body, reds, inner=False)
            head, size = "    " * self.k, f"n{self.k - 1}"
        i = f"i{self.k - 1}"
        stored = self._stored_operands(second, out_pos)
        if stored is None:
            # Reductions first: they store nothing, so the elementwise loop after them may
            # overwrite an input in place (an optimizer step) without the reductions seeing it.
            body.append(f"{head}for {i} in range({size}):  # reductions along {i}")
            body += self.element_body(head + "    ", reds, out_pos, second, stores=False)
            body.append(f"{head}for {i} in range({size}):  # elementwise results")
            body += self.element_body(head + "    ", reds, out_pos, first)
        else:
            # Every value reduced along the row is also stored (softmax's exp and its sum):
            # the elementwise loop computes it once, and the reductions read it back.
            body.append(f"{head}for {i} in range({size}):  # elementwise results")
            body += self.element_body(head + "    ", reds, out_pos, first)
            body.append(f"{head}for {i} in range({size}):  # reductions along {i}, of stored values")
            for node, array in stored:
                index = self._index(node.inputs[0].shape)
                body.append(f"{head}    {self._var(node.inputs[0])} = {array}[{index}]")
                comment = "  # " + format_node(node, show_loc=False).rsplit(" : ", 1)[0]
                body.append(f"{head}    {self._reduce_line(node)}{comment}")
        self._sliced = set()

    def _stored_operands(self, second, out_pos):
        """[(reduction, the array its operand is stored in)] when every reduction of the split's
        reduction half reduces a value the elementwise half stores at the loop's full shape;
        else None (the reductions recompute what they need)."""
        out = []
        for n in [n for n in self.group.nodes if n in second and n.prim.reduce is not None]:
            x = n.inputs[0]
            if not isinstance(x, Value) or x.shape != tuple(self.group.shape):
                return None
            if x in out_pos:
                out.append((n, self._arr("o", out_pos[x])))
            elif x in self.inplace:
                out.append((n, self._arr("a", self.inplace[x])))
            else:
                return None
        return out

    _BLOCK = 2048   # elements per block of a 1-D split loop: both loops' operands stay in cache

    def _blocks(self, body):
        """A 1-D split loop runs over blocks, each loop over a slice of every array, so that the
        reduction loop re-reads what the elementwise loop just brought into cache. Slices keep
        the inner index starting at 0, which is what lets LLVM drop Numba's negative-index
        checks and vectorize."""
        rng = "prange" if self.parallel else "range"
        b = self._BLOCK
        body.append(f"    for b0 in {rng}((n0 + {b - 1}) // {b}):")
        body.append(f"        lo = b0 * {b}")
        # (not min(): Numba compiles its overload as a function of its own, ~0.1 s a process)
        body.append(f"        hi = lo + {b} if lo + {b} < n0 else n0")
        sliced = [f"a{i}" for i, v in enumerate(self.arrays) if not self._invariant(v)]
        sliced += [f"o{i}" for i, v in enumerate(self.outputs) if v.shape == tuple(self.group.shape)]
        body += [f"        {n}b = {n}[lo:hi]" for n in sliced]
        self._sliced = set(sliced)

    def _reduce_line(self, node):
        acc = self._acc(node)
        target = acc if self._whole(node) else f"{acc}[{self._kept_index(node)}]"
        return self._acc_update(node, target, self._element(node))

    def _element(self, node):
        """What a reduction combines of its input's element: the element, or its registry
        entry's `expr` of it (check_range: 1.0 where out of range)."""
        val = self._operand(node.inputs[0])
        if node.prim.expr is None:
            return val
        attrs = {k: literal(v) if not hasattr(v, "short") else v for k, v in node.attrs.items()}
        return node.prim.expr_for(node).format(val, **attrs)

    def _loop_nest(self, body, reds, inner=True):
        # Parallel only over a dimension no reduction folds (or for whole-array reductions).
        par_ok = self.parallel and all(self._whole(r) or 0 not in r.attrs["axis"] for r in reds)
        for d in range(self.k if inner else self.k - 1):
            rng = "prange" if (d == 0 and par_ok) else "range"
            body.append(f"{'    ' * (d + 1)}for i{d} in {rng}(n{d}):")
        if self.k == 0:
            body.append("    if True:")  # keeps the body's indentation uniform for a 0-dim loop

    def _whole(self, node):
        """Reduces every dim (axis None, or all of them listed): a scalar accumulator."""
        axis = node.attrs["axis"]
        return axis is None or len(axis) == self.k

    def _acc(self, node):
        if node.out not in self.accs:
            self.accs[node.out] = f"acc{len(self.accs)}"
        return self.accs[node.out]

    def _reduction_prologue(self, node):
        """A whole reduction accumulates into a scalar. A partial one (a bias gradient: a sum
        over the batch) into one float64 (int64) element per kept index: a buffer the caller
        allocates once and passes after the sizes (`s0, s1, ...`; `self.given` says their
        shapes and dtypes), reset here on entry. Allocated in the kernel (`np.full`), it would
        go through Numba's runtime (NRT), which a process running machine-code entries without
        Numba does not have (codegen/machine_cache.py refuses such objects): that kernel would keep
        Numba's dispatcher and import Numba in a warm process. The caller owns the buffers as
        it owns its workspace: one kernel call at a time per buffer."""
        acc = self._acc(node)
        if self._whole(node):
            return [f"    {acc} = {self._acc_init(node)}"]
        axis = node.attrs["axis"]
        kept = tuple(self.group.shape[d] for d in range(self.k) if d not in axis)
        dtype = "float64" if node.inputs[0].dtype.category == FLOAT else "int64"
        self.given.append((kept, dtype))
        return [f"    {acc} = s{len(self.given) - 1}", f"    {acc}[:] = {self._acc_init(node)}"]

    def _reduction_epilogue(self, node, pos):
        acc = self._acc(node)
        ctor = _CTOR[node.out.dtype.name]
        if self._whole(node):
            return [f"    o{pos}[{'()' if not node.out.shape else ', '.join('0' * len(node.out.shape))}]"
                    f" = {ctor}({acc})"]
        kept = [d for d in range(self.k) if d not in node.attrs["axis"]]
        lines = []
        for j, d in enumerate(kept):
            lines.append(f"{'    ' * (j + 1)}for i{d} in range(n{d}):")
        out_idx = [f"i{d}" if d in kept else "0" for d in range(self.k)] if node.attrs["keepdims"] \
            else [f"i{d}" for d in kept]
        ind = "    " * (len(kept) + 1)
        lines.append(f"{ind}o{pos}[{', '.join(out_idx) or '()'}] = {ctor}({acc}[{', '.join(f'i{d}' for d in kept)}])")
        return lines


def loop_source(group, constants, fname, parallel=False, inplace=None, split=True):
    """(source, input Values, output Values, accumulators): the kernel text, its argument order
    and the (shape, dtype name) of each accumulator buffer it takes after the sizes
    (LoopSource._reduction_prologue). Outputs in `inplace` (output -> input) are stored into
    that input and are not arguments; split=False keeps a reduction and elementwise stores in
    one loop (LoopSource._split)."""
    src = LoopSource(group, constants, parallel, inplace, split)
    return src.source(fname), src.arrays, src.outputs, src.given
