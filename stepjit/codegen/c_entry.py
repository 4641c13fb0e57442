"""Building a kernel's C entry: the machine code a later process calls without Numba.

A kernel here is any compiled function that returns nothing (None or an empty tuple):
a loop kernel, or a native program's `program`/`program_packed` (codegen/native_program.py).

Used only where Numba has just run the kernel (the process that compiled or loaded
it); codegen/machine_cache.py loads what this module builds, and describes the cache.

A Numba dispatcher call types every argument (~1-2 us for a kernel of a few arrays)
and needs Numba imported (~0.3 s, plus ~0.3 s to load a cached overload). The entry
is instead one C function with CPython's METH_VARARGS signature,

    PyObject *entry(PyObject *self, PyObject *args)

written here as LLVM IR and linked with the kernel's own compiled module (the
overload Numba built for these argument types), then made a Python builtin by
machine_cache.py, so it is called exactly as the dispatcher is: `kernel(*arrays, *sizes)`.
It reads the arguments straight from CPython's tuple and NumPy's array structs
(machine_cache.layout_ok checks those offsets once per process), checks each argument
against what the overload was compiled for (an int; an ndarray of that rank, dtype,
native byte order, alignment, contiguity and, if the kernel may write it,
writability), and passes the array's fields as Numba's calling convention does
(meminfo, parent, nitems, itemsize, data, shape..., strides...; no meminfo, as for
a borrowed array). An argument it was not built for is handed, untouched, to
`self[0]`: the kernel's Numba path. `self` is the tuple (fallback, numpy.ndarray,
None, int), so that the machine code holds no address of the process that built it.
"""
from __future__ import annotations

import numpy as np

from . import machine_cache

# NumPy array flags (ndarraytypes.h).
C_CONTIGUOUS, F_CONTIGUOUS, ALIGNED, WRITEABLE = 0x1, 0x2, 0x100, 0x400
_LAYOUT_FLAGS = {"C": C_CONTIGUOUS, "F": F_CONTIGUOUS, "A": 0}
_RAISED = b"stepjit: a kernel raised inside its machine-code entry\x00"
_NOTHING = ("none", "Tuple()")   # the Numba return types an entry stands for (it returns None)


def build(dispatcher, args, sig, symbol) -> bytes:
    """The object code of the entry `symbol` for the overload of `dispatcher` (a kernel's
    Numba dispatcher) that these args, of signature `sig`, ran."""
    argtypes = tuple(dispatcher.typeof_pyval(a) for a in args)
    cres = dispatcher.overloads.get(argtypes)
    if cres is None:
        raise LookupError(f"no compiled overload for {argtypes}")
    return build_result(cres, argtypes, sig, symbol)


def build_result(cres, argtypes, sig, symbol) -> bytes:
    """The object code of the entry `symbol` for the Numba compile result `cres` of a kernel
    for these Numba argument types (of signature `sig`): a dispatcher's overload, or a result
    compiled for the entry alone (codegen/entry_compile.py)."""
    import llvmlite.binding as ll
    _check_types(argtypes, sig)
    if str(cres.signature.return_type) not in _NOTHING:
        raise TypeError(f"it returns {cres.signature.return_type} (an entry returns None)")
    lib = cres.library
    native = cres.fndesc.mangled_name
    module = ll.parse_bitcode(lib._get_module_for_linking().as_bitcode())
    params = [str(a.type) for a in module.get_function(native).arguments]
    if params != _params(sig):
        raise TypeError(f"unexpected calling convention for {native}: {params}")
    module.link_in(ll.parse_assembly(wrapper_ir(symbol, native, sig)))
    for g in list(module.functions) + list(module.global_variables):
        if not g.is_declaration and g.name != symbol:
            g.linkage = "internal"
    _drop_dead(module, lib._codegen._tm)
    _refuse_unlinkable(module)
    return lib._codegen._tm.emit_object(module)


def _refuse_unlinkable(module):
    """Refuse, before emitting any machine code, an entry whose module still declares a
    function it may not link (an NRT allocator: the program allocates): emitting the object
    code of a long native program costs seconds (16 s for an unrolled RNN's), only for
    machine_cache to refuse the object's undefined symbol afterwards."""
    bad = sorted(f.name for f in module.functions if f.is_declaration
                 and not f.name.startswith("llvm.") and not machine_cache.linkable(f.name))
    if bad:
        raise LookupError(f"it needs {', '.join(bad)}")


def _check_types(argtypes, sig):
    """The overload's Numba types are what the entry's checks guarantee."""
    for ty, spec in zip(argtypes, sig):
        if spec == "i":
            ok = str(ty) == "int64"
        else:
            dtype, ndim, layout, writable = spec
            ok = (str(ty.dtype) == dtype and ty.ndim == ndim and ty.layout == layout
                  and ty.mutable == writable and ty.aligned)
        if not ok:
            raise TypeError(f"overload type {ty} is not {spec}")


def _params(sig):
    """The LLVM parameters Numba's calling convention gives the kernel for sig."""
    out = ["ptr", "ptr"]                      # return slot, exception info
    for spec in sig:
        if spec == "i":
            out.append("i64")
        else:
            out += ["ptr", "ptr", "i64", "i64", "ptr"] + ["i64"] * (2 * spec[1])
    return out


def _drop_dead(module, tm):
    """Remove what the entry does not reach: Numba's CPython wrapper of the kernel, which
    calls Numba's helper library (absent from a process without Numba)."""
    import llvmlite.binding as ll
    pb = ll.create_pass_builder(tm, ll.create_pipeline_tuning_options(speed_level=0))
    mpm = ll.create_new_module_pass_manager()
    mpm.add_global_dead_code_eliminate_pass()
    mpm.add_strip_dead_prototype_pass()
    mpm.run(module, pb)


# -- the entry's IR ---------------------------------------------------------------------
def wrapper_ir(symbol, native, sig) -> str:
    w = _Writer()
    n = len(sig)
    w.line("%ret = alloca ptr")
    w.line("%exc = alloca ptr")
    w.line("store ptr null, ptr %ret")
    w.line("store ptr null, ptr %exc")
    for name, offset in (("fb", 24), ("ndarray", 32), ("none", 40), ("int", 48)):
        w.line(f"%{name} = load ptr, ptr {w.at('%self', offset)}")   # items of self
    w.line(f"%nargs = load i64, ptr {w.at('%args', 16)}")
    w.branch(f"icmp eq i64 %nargs, {n}", "check0")
    for i, spec in enumerate(sig):
        w.block(f"check{i}")
        w.line(f"%o{i} = load ptr, ptr {w.at('%args', 24 + 8 * i)}")
        w.line(f"%ty{i} = load ptr, ptr {w.at(f'%o{i}', 8)}")
        if spec == "i":
            w.branch(f"icmp eq ptr %ty{i}, %int", f"check{i + 1}")
        else:
            w.branch(f"icmp eq ptr %ty{i}, %ndarray", f"fields{i}")
            w.block(f"fields{i}")
            _array_checks(w, i, spec, f"check{i + 1}")
    w.block(f"check{n}")
    call_args = ["ptr %ret", "ptr %exc"]
    for i, spec in enumerate(sig):
        call_args += _int_value(w, i) if spec == "i" else _array_fields(w, i, spec)
    _int_errors(w, [i for i, spec in enumerate(sig) if spec == "i"])
    w.line(f'%st = call i32 @"{native}"({", ".join(call_args)})')
    # Numba's status codes: 0 returned, -2 returned None; anything else raised.
    w.line("%st0 = icmp eq i32 %st, 0")
    w.line("%st2 = icmp eq i32 %st, -2")
    w.line("%good = or i1 %st0, %st2")
    w.line("br i1 %good, label %done, label %raised")
    return _module_text(symbol, native, sig, w)


def _array_checks(w, i, spec, next_block):
    dtype, ndim, layout, writable = spec
    flags = ALIGNED | _LAYOUT_FLAGS[layout] | (WRITEABLE if writable else 0)
    w.line(f"%nd{i} = load i32, ptr {w.at(f'%o{i}', 24)}")
    w.line(f"%fl{i} = load i32, ptr {w.at(f'%o{i}', 64)}")
    w.line(f"%ds{i} = load ptr, ptr {w.at(f'%o{i}', 56)}")
    w.line(f"%tn{i} = load i32, ptr {w.at(f'%ds{i}', 28)}")
    w.line(f"%bo{i} = load i8, ptr {w.at(f'%ds{i}', 26)}")
    w.line(f"%fm{i} = and i32 %fl{i}, {flags}")
    conds = [f"icmp eq i32 %nd{i}, {ndim}", f"icmp eq i32 %fm{i}, {flags}",
             f"icmp eq i32 %tn{i}, {np.dtype(dtype).num}", f"icmp ne i8 %bo{i}, 62"]  # 62: '>'
    acc = None
    for j, cond in enumerate(conds):
        w.line(f"%k{i}_{j} = {cond}")
        if acc is not None:
            w.line(f"%a{i}_{j} = and i1 {acc}, %k{i}_{j}")
        acc = f"%k{i}_{j}" if acc is None else f"%a{i}_{j}"
    w.line(f"br i1 {acc}, label %{next_block}, label %fallback")


def _array_fields(w, i, spec):
    """Loads of an array's fields, as the kernel's arguments (meminfo, parent, nitems,
    itemsize, data, shape..., strides...)."""
    dtype, ndim, _, _ = spec
    w.line(f"%data{i} = load ptr, ptr {w.at(f'%o{i}', 16)}")
    w.line(f"%dims{i} = load ptr, ptr {w.at(f'%o{i}', 32)}")
    w.line(f"%strd{i} = load ptr, ptr {w.at(f'%o{i}', 40)}")
    shape, strides, size = [], [], "1"
    for j in range(ndim):
        w.line(f"%sh{i}_{j} = load i64, ptr {w.at(f'%dims{i}', 8 * j)}")
        w.line(f"%sd{i}_{j} = load i64, ptr {w.at(f'%strd{i}', 8 * j)}")
        w.line(f"%sz{i}_{j} = mul i64 {size}, %sh{i}_{j}")
        size = f"%sz{i}_{j}"
        shape.append(f"i64 %sh{i}_{j}")
        strides.append(f"i64 %sd{i}_{j}")
    item = np.dtype(dtype).itemsize
    return ["ptr null", f"ptr %o{i}", f"i64 {size}", f"i64 {item}", f"ptr %data{i}"] + shape + strides


def _int_value(w, i):
    w.line(f"%x{i} = call i64 @PyLong_AsLongLong(ptr %o{i})")
    return [f"i64 %x{i}"]


def _int_errors(w, ints):
    """PyLong_AsLongLong returns -1 with an exception set on overflow: return NULL then."""
    if not ints:
        return
    w.line("%e = call ptr @PyErr_Occurred()")
    w.branch("icmp eq ptr %e, null", "run", fail="null")
    w.block("run")


def _module_text(symbol, native, sig, w) -> str:
    const = "".join(f"\\{b:02X}" for b in _RAISED)
    params = ", ".join(_params(sig))
    return f"""
@PyExc_RuntimeError = external global ptr
@{symbol}_msg = private constant [{len(_RAISED)} x i8] c"{const}"
declare i32 @"{native}"({params})
declare void @PyErr_SetString(ptr, ptr)
declare ptr @PyErr_Occurred()
declare i64 @PyLong_AsLongLong(ptr)
declare void @Py_IncRef(ptr)
declare ptr @PyObject_Call(ptr, ptr, ptr)

define ptr @{symbol}(ptr %self, ptr %args) {{
entry:
{w.text()}
done:
  call void @Py_IncRef(ptr %none)
  ret ptr %none
raised:
  %err = load ptr, ptr @PyExc_RuntimeError
  call void @PyErr_SetString(ptr %err, ptr @{symbol}_msg)
  ret ptr null
fallback:
  %r = call ptr @PyObject_Call(ptr %fb, ptr %args, ptr null)
  ret ptr %r
null:
  ret ptr null
}}
"""


class _Writer:
    """Lines of one LLVM function body."""

    def __init__(self):
        self.lines = []

    def at(self, ptr, offset):
        """A pointer `offset` bytes past ptr (a fresh name)."""
        name = f"%p{len(self.lines)}"
        self.lines.append(f"  {name} = getelementptr i8, ptr {ptr}, i64 {offset}")
        return name

    def line(self, text):
        self.lines.append("  " + text)

    def block(self, label):
        self.lines.append(f"{label}:")

    def branch(self, cond, ok, fail="fallback"):
        name = f"%c{len(self.lines)}"
        self.lines.append(f"  {name} = {cond}")
        self.lines.append(f"  br i1 {name}, label %{ok}, label %{fail}")

    def text(self):
        return "\n".join(self.lines)
