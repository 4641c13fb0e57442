"""The machine-code cache: kernels a later process runs without importing Numba.

Numba's own cache (`cache=True`, codegen/kernels.py) makes a second process load
instead of compile, but it still imports Numba (~0.3 s) and rebuilds its typing
and target registries to load an overload (~0.3 s), which is most of a warm first
call. So the process that compiles a kernel also builds, per argument signature, a
C entry around it (codegen/c_entry.py says how it is called) and stores its object
code here, under STEPJIT_CACHE_DIR/kernels:

    k_<kernel hash>.<digest>.entry      digest: of the signature and the environment
      b"STEPJIT-ENTRY\\n", one JSON header line, the ELF object code

The header repeats what the file is for (signature, environment: entry ABI, Numba,
llvmlite, NumPy and Python versions, CPU name and features) and the SHA-256 of the
object code; a later process uses the file only when all of it matches its own, and
deletes a file that fails the check (truncated, corrupt). It then loads the object
with llvmlite's MCJIT alone (`import llvmlite.binding`: ~0.07 s) and makes the entry
a Python builtin through ctypes.

What the object may reference is checked before it is linked (an unresolved symbol
would abort the process in LLVM): symbols this process has (CPython's C API, libm,
libc), and two Numba runtime functions that only release memory (NRT_Free,
NRT_MemInfo_call_dtor). Those are linked to stubs that abort loudly, because they
cannot be reached: NRT_decref calls them only when a meminfo's count drops to zero,
every array the entry makes is a view with no meminfo, and an object that could
allocate one would also reference NRT's allocators, which are not allowed, so it is
not used. Anything else (another symbol, a non-ELF platform, an ABI this module does
not recognize) leaves the kernel on Numba.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import struct
import sys
import threading

import numpy as np

from .. import config, version
from .diskcache import write_atomic

ENTRY_ABI = 2      # bump when c_entry.py or the layout below changes what an entry expects
MAGIC = b"STEPJIT-ENTRY\n"
_UNREACHABLE = ("NRT_Free", "NRT_MemInfo_call_dtor")
_DTYPES = ("float32", "float64", "int64", "int32", "bool", "uint8", "int8", "int16")

_LOCK = threading.RLock()   # the engine: MCJIT is not thread-safe
_STATE = {}   # "engine": the MCJIT engine, "env": environment(), "ok": available(),
              # "linked": entry symbol -> its address in the engine


def enabled() -> bool:
    return config.machine_cache()


def signature(args):
    """What an entry is built for and checks: per argument "i" for an int, else (dtype, ndim,
    layout "C", "F" or "A", writable), the parts of Numba's type for it. None when some
    argument is of a kind entries do not take."""
    sig = []
    for a in args:
        t = type(a)
        if t is int:
            sig.append("i")
        elif t is np.ndarray:
            dt, flags = a.dtype, a.flags
            if dt.name not in _DTYPES or not dt.isnative or not flags.aligned:
                return None
            layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"  # as Numba
            sig.append((dt.name, a.ndim, layout, bool(flags.writeable)))
        else:
            return None
    return tuple(sig)


def entry_path(kernel_path, sig, function=None) -> str:
    """Where the entry for a function of a kernel module (its .py path) and a signature is
    cached: `<module>.<digest>.entry` for the module's own-named function (a loop kernel),
    `<module>.<function>.<digest>.entry` for another (a native program's)."""
    blob = json.dumps([sig, environment()], sort_keys=True)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
    stem = os.path.splitext(kernel_path)[0]
    if function is not None and function != os.path.basename(stem):
        stem = f"{stem}.{function}"
    return f"{stem}.{digest}.entry"


def entry_symbol(kernel_path, sig, function=None) -> str:
    """The entry's one external symbol: unique per kernel, function and signature in this
    process."""
    return "stepjit_" + os.path.basename(entry_path(kernel_path, sig, function)).replace(".", "_")


def environment() -> dict:
    """Everything that the object code or the entry's reading of structs depends on."""
    env = _STATE.get("env")
    if env is None:
        import llvmlite
        import llvmlite.binding as ll
        env = _STATE["env"] = {
            "abi": ENTRY_ABI, "stepjit": version.stepjit,
            "numba": _numba_version(), "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "python": sys.implementation.cache_tag + sys.abiflags,
            "machine": os.uname().machine, "byteorder": sys.byteorder,
            "cpu": ll.get_host_cpu_name(), "features": ll.get_host_cpu_features().flatten()}
    return env


def _numba_version():
    """Numba's version, read from its package without importing it (importlib.metadata costs
    ~0.2 s)."""
    import importlib.util
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        with open(os.path.join(spec.submodule_search_locations[0], "_version.py")) as f:
            m = re.search(r'"version": "([^"]+)"', f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def available() -> bool:
    """Entries can be built and loaded here: enabled, ELF x86-64 or AArch64 little-endian
    Linux, CPython with the struct layouts c_entry.py reads."""
    if not enabled():
        return False
    ok = _STATE.get("ok")
    if ok is None:
        ok = _STATE["ok"] = (sys.platform.startswith("linux")
                             and sys.implementation.name == "cpython" and sys.byteorder == "little"
                             and os.uname().machine in ("x86_64", "aarch64")
                             and environment()["numba"] is not None and layout_ok())
    return ok


def layout_ok() -> bool:
    """The offsets c_entry.py reads (CPython's tuple and int headers, NumPy's PyArrayObject and
    descr), checked against this process's own objects."""
    def word(addr, ctype=ctypes.c_int64):
        return ctype.from_address(addr).value

    t = (np.ndarray, None)
    if word(id(t) + 16) != 2 or word(id(t) + 24) != id(np.ndarray) or word(id(7) + 8) != id(int):
        return False
    base = np.zeros((3, 4), np.float32)
    views = [base, base[:, ::2], base.T, np.zeros((), np.int64), np.broadcast_to(base, (2, 3, 4))]
    return all(_array_layout_ok(a, word) for a in views)


def _array_layout_ok(a, word):
    p = id(a)
    f = a.flags
    flags = (0x1 if f.c_contiguous else 0) | (0x2 if f.f_contiguous else 0) \
        | (0x100 if f.aligned else 0) | (0x400 if f.writeable else 0)
    descr = word(p + 56)
    return (word(p + 8) == id(np.ndarray) and word(p + 16) == a.__array_interface__["data"][0]
            and word(p + 24, ctypes.c_int32) == a.ndim
            and all(word(word(p + 32) + 8 * j) == a.shape[j] for j in range(a.ndim))
            and all(word(word(p + 40) + 8 * j) == a.strides[j] for j in range(a.ndim))
            and descr == id(a.dtype) and word(descr + 28, ctypes.c_int32) == a.dtype.num
            and word(p + 64, ctypes.c_int32) & 0x503 == flags)


# -- storing -------------------------------------------------------------------------------
def store(path, sig, ident, obj: bytes) -> str:
    """Write an entry's object code with its header, atomically (os.replace), so that a
    reader sees the whole file or none; the path written (diskcache: a private directory
    where the cache cannot be written). `ident`: {"symbol", "source"} (Kernel._identity)."""
    header = {"sig": sig, "env": environment(), **ident,
              "sha256": hashlib.sha256(obj).hexdigest(), "size": len(obj)}
    return write_atomic(path, MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + obj)


def refusal_path(path) -> str:
    """Beside an entry's path: the note that no entry can be built for that function and
    signature (it returns arrays, allocates, ...)."""
    return path[:-len(".entry")] + ".none" if path.endswith(".entry") else path + ".none"


def store_refusal(path, ident, why: str) -> None:
    """Note that the entry at `path` cannot be built, so that a later process does not try
    again: the attempt parses, links and optimizes the whole compiled module before it is
    refused (over a second for a long native program). Best effort: a note that cannot be
    written only costs the next process that attempt."""
    note = {"env": environment(), **ident, "why": why}
    try:
        write_atomic(refusal_path(path), json.dumps(note, sort_keys=True).encode())
    except OSError:
        pass


def refused(path, ident):
    """Why the entry at `path` was refused by an earlier process, for this kernel's code and
    this environment (the path names the signature); None when no such note is there. A note
    is a hint, never a risk: trusting it only leaves the function on Numba."""
    try:
        with open(refusal_path(path), "rb") as f:
            note = json.loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or note.get("env") != environment() or any(
            note.get(k) != v for k, v in ident.items()):
        return None
    why = note.get("why")
    return why if isinstance(why, str) else None


def read(path, sig, ident):
    """(symbol, object code) from a cached entry that is whole and is this kernel's, for this
    signature and environment; None when there is none. A file that fails the check (truncated,
    corrupt, another kernel's entry renamed onto this one, another version's) is deleted."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    got = _parse(data, sig, ident)
    if got is None:
        _remove(path)
    return got


def _parse(data, sig, ident):
    if not data.startswith(MAGIC):
        return None
    line, sep, obj = data[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    want = json.loads(json.dumps({"sig": sig, "env": environment()}))  # tuples as JSON lists
    if not sep or header.get("sig") != want["sig"] or header.get("env") != want["env"]:
        return None
    if any(header.get(k) != v for k, v in ident.items()):
        return None
    if header.get("size") != len(obj) or header.get("sha256") != hashlib.sha256(obj).hexdigest():
        return None
    return header["symbol"], obj


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


# -- loading ------------------------------------------------------------------------------
def load(path, sig, fallback, ident):
    """The cached entry at `path` for `sig`, verified to be `ident` (its symbol and source
    digest), as a Python builtin (called like the kernel), or None (no usable entry: the
    caller runs the kernel with Numba)."""
    if sig is None or not available():
        return None
    got = read(path, sig, ident)
    if got is None:
        return None
    symbol, obj = got
    with _LOCK:
        addr = _link(obj, symbol)
    if not addr:
        return None
    return _builtin(addr, symbol, fallback)


def _link(obj, symbol):
    """Add the object to this process's engine and return the entry's address; 0 when it
    references a symbol that is not allowed or cannot be resolved."""
    import llvmlite.binding as ll
    linked = _STATE.setdefault("linked", {})
    if symbol in linked:    # the same kernel and signature again (adding it twice would abort)
        return linked[symbol]
    try:
        names = undefined_symbols(obj)
    except (ValueError, struct.error, IndexError):
        return 0
    engine = _engine()
    if not all(linkable(name) for name in names):
        return 0
    engine.add_object_file(ll.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    linked[symbol] = engine.get_function_address(symbol)
    return linked[symbol]


def linkable(name) -> bool:
    """May an entry's object reference this symbol? The two unreachable NRT functions (linked
    to the stubs); no other of Numba's runtime or helpers, even in a process where Numba has
    registered them (an object that allocates through NRT would free through the stubs); any
    other symbol this process defines (the C API, libm, libc)."""
    import llvmlite.binding as ll
    if name in _UNREACHABLE:
        return True
    if name.startswith(("NRT_", "numba_", "_numba")):
        return False
    _engine()           # creating an engine makes the process's own symbols visible
    return bool(ll.address_of_symbol(name))


def _engine():
    """One MCJIT engine per process, holding the stubs; every entry's object is added to it."""
    with _LOCK:
        engine = _STATE.get("engine")
        return engine if engine is not None else _new_engine()


def _new_engine():
    import llvmlite.binding as ll
    ll.initialize_native_target()
    ll.initialize_native_asmprinter()
    env = environment()
    tm = ll.Target.from_default_triple().create_target_machine(
        cpu=env["cpu"], features=env["features"], codemodel="jitdefault", jit=True)
    stubs = ll.parse_assembly(_stub_ir())
    stubs.verify()
    engine = _STATE["engine"] = ll.create_mcjit_compiler(stubs, tm)
    engine.finalize_object()
    return engine


def _stub_ir() -> str:
    """Functions named like the unreachable Numba runtime functions, which say so and abort."""
    msg = b"stepjit: machine-code kernel entry reached a Numba runtime function it cannot use\n"
    const = "".join(f"\\{b:02X}" for b in msg)
    lines = [f'@msg = private constant [{len(msg)} x i8] c"{const}"',
             "declare i64 @write(i32, ptr, i64)", "declare void @abort()"]
    for name in _UNREACHABLE:
        lines += [f"define void @{name}(ptr %p) {{",
                  f"  %w = call i64 @write(i32 2, ptr @msg, i64 {len(msg)})",
                  "  call void @abort()", "  unreachable", "}"]
    return "\n".join(lines) + "\n"


def undefined_symbols(obj: bytes):
    """Names an ELF64 little-endian object file references but does not define."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        raise ValueError("not an ELF64 little-endian object")
    shoff = struct.unpack_from("<Q", obj, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    # (name, type, flags, addr, offset, size, link, info, addralign, entsize)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]
    names = []
    for sec in sections:
        if sec[1] != 2:            # SHT_SYMTAB
            continue
        strtab = sections[sec[6]]
        for off in range(sec[4], sec[4] + sec[5], 24):
            st_name, _, _, st_shndx, _, _ = struct.unpack_from("<IBBHQQ", obj, off)
            if st_shndx == 0 and st_name:      # SHN_UNDEF
                start = strtab[4] + st_name
                names.append(obj[start:obj.index(b"\0", start)].decode())
    return names


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_void_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


_METH_VARARGS = 1


def _builtin(addr, symbol, fallback):
    """A builtin function calling the C entry at addr with self = (fallback, ndarray, None,
    int): what c_entry.py's code compares against and returns."""
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    return new(_permanent_def(addr, symbol), (fallback, np.ndarray, None, int), None)


def _permanent_def(addr, symbol) -> int:
    """The address of a PyMethodDef (and its name) in memory that is never freed. The
    builtin reads it until its own deallocation, which at interpreter exit may come after
    this module's globals are cleared: a def owned by a Python object (a ctypes structure
    kept in a list) was freed first there, and the builtin's dealloc then read freed memory
    (a segfault in meth_dealloc at exit). A few dozen bytes per entry, once per process."""
    name = symbol.encode() + b"\0"
    size = ctypes.sizeof(_MethodDef)
    malloc = ctypes.pythonapi.PyMem_RawMalloc
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    base = malloc(size + len(name))
    if not base:
        raise MemoryError("no memory for a machine-code entry's method definition")
    ctypes.memmove(base + size, name, len(name))
    d = _MethodDef.from_address(base)
    d.ml_name, d.ml_meth, d.ml_flags, d.ml_doc = base + size, addr, _METH_VARARGS, None
    return base
