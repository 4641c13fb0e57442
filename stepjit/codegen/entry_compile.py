"""Compiling a loop kernel straight to its machine-code entry, without Numba's dispatcher.

A dispatcher's first call of a kernel types and lowers it, optimizes its LLVM module, makes
machine code of it in this process (MCJIT), adds a CPython wrapper around it, and saves it to
Numba's cache (`cache=True`); the kernel's machine-code entry (c_entry.py) then links the
optimized module with the entry's own IR and makes machine code again. Once the entry exists
a loop kernel runs only through it, in this process and in every later one, so the first
machine code, the wrapper and Numba's cache entry are built for nothing: about a third of
the CPU of a kernel's first call (W8's 40 kernels: 13.2 -> 9.3 s).

So where a kernel's first call can have an entry (codegen/kernels.py: `Kernel._first`),
`compile_result` asks Numba's compiler for the typed, lowered and optimized LLVM module alone
(`no_compile`, no CPython or C wrapper, no IR rewrites) in a `module_library()`, a code
library whose finalization stops before the JIT engine, and c_entry.py makes the entry's object code from
that module: one machine-code emission per kernel. The dispatcher stays the fallback: a call
with arguments the entry was not built for, or a kernel that cannot have an entry, is
compiled by it as before (and saved to Numba's cache then).

The helper functions a kernel calls (codegen/vmath.py, scalar.py, pointers.py) are compiled
by Numba as ever, once per process, and linked into the kernel's module before it is
optimized, as the dispatcher's compile links them.
"""
from __future__ import annotations

import re

_LIBRARY = []    # ModuleLibrary, made at first use: this module loads no Numba until a compile


def module_library():
    """The class of a code library finalized up to its optimized LLVM module (helpers linked,
    module passes run), never added to the JIT engine: nothing of it runs in this process."""
    if not _LIBRARY:
        from numba.core.codegen import JITCodeLibrary

        class ModuleLibrary(JITCodeLibrary):
            def _finalize_final_module(self):
                self._finalize_dynamic_globals()
                self._verify_declare_only_symbols()
                self._finalized = True
        _LIBRARY.append(ModuleLibrary)
    return _LIBRARY[0]


def compile_result(dispatcher, argtypes, func=None):
    """Numba's compile result for `func` (default: `dispatcher`'s function, a loop kernel) and
    these Numba argument types, with the dispatcher's options, whose library holds the
    optimized module and no machine code. The dispatcher itself is left as it was (no overload
    added)."""
    from numba.core import compiler
    from numba.core.compiler_lock import global_compiler_lock
    func = func or dispatcher.py_func
    target = dispatcher.targetdescr
    flags = compiler.Flags()
    target.options.parse_as_flags(flags, dispatcher.targetoptions)
    flags.no_compile = True          # stop after lowering: no machine code here
    flags.no_cpython_wrapper = True  # called through its entry only
    flags.no_cfunc_wrapper = True
    # Numba's IR rewrites (constant folding of semantic constants, static getitems, array
    # expressions, dead-branch pruning) find nothing in generated loops that LLVM does not
    # fold anyway: without them W8's 40 kernels compile in ~6% less CPU (9.03 -> 8.49 s)
    flags.no_rewrites = True
    # Nor Numba's runtime (NRT): an entry takes every array borrowed (no meminfo) and may not
    # link NRT's allocators (machine_cache.linkable), so a kernel's reference counting is dead
    # code that Numba still lowers (an incref/decref call per array variable bound or dropped)
    # and LLVM then optimizes and prunes; without it W8's 40 kernels compile in ~12% less CPU
    # (min of four interleaved runs, 8.86 -> 6.82 s, load 13-17). A kernel that allocates
    # fails to compile this way and falls back to the dispatcher, as it would have no entry.
    # Reading an array's `.flags` (the flat loop's contiguity test, kept where the entry may
    # take a strided array: `specialized`) makes a flags object, which Numba lowers only with
    # NRT: such a kernel keeps it rather than falling back to the dispatcher's compile (three
    # machine-code emissions; W7's two pooling kernels, ~1.7 s of CPU).
    flags.nrt = "flags" in func.__code__.co_names
    with global_compiler_lock:
        target.typing_context.refresh()
        target.target_context.refresh()
        library = module_library()(target.target_context.codegen(), func.__qualname__)
        cres = compiler.compile_extra(target.typing_context, target.target_context,
                                      func, args=argtypes, return_type=None,
                                      flags=flags, locals=dict(dispatcher.locals),
                                      library=library)
        library.finalize()
    return cres


# codegen/loops.py's flat loop: taken when every array it names is C-contiguous, else the
# loop nest after it runs
_C = r"[ao]\d+\.flags\.c_contiguous"
_FLAT_TEST = re.compile(rf"^    if ({_C}(?: and {_C})*):$", re.M)


def specialized(func, text, sig):
    """`func` (a loop kernel's Python function, from the module `text`) as compiled for an
    entry of signature `sig`: where its flat loop's test names only arrays the entry takes
    C-contiguous (it checks them on every call), the test is `True`, so CPython drops the loop
    nest after the flat loop's return and Numba types, lowers and optimizes half the code
    (W8's Adam updates). Otherwise `func` itself."""
    m = _FLAT_TEST.search(text)
    head = re.search(rf"^def {func.__name__}\((.*)\):$", text, re.M)
    if m is None or head is None:
        return func
    params = head[1].split(", ")
    tested = re.findall(r"([ao]\d+)\.flags", m[1])
    if not all(sig[params.index(n)] != "i" and sig[params.index(n)][2] == "C" for n in tested):
        return func
    source = text[head.start():m.start()] + "    if True:" + text[m.end():]
    namespace = dict(func.__globals__)
    exec(compile(source, func.__code__.co_filename, "exec"), namespace)   # noqa: S102 - our text
    return namespace[func.__name__]
