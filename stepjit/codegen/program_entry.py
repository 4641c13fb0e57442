"""A native program compiled straight into its machine-code entry, with no CPython wrapper.

A native `program` (codegen/native_program.py) of an unrolled RNN takes ~90 array arguments.
Numba gives every function it compiles a CPython wrapper that unboxes each argument, and LLVM
lowers, optimizes and emits that wrapper like the rest (W6: ~0.4-0.5 s to lower it alone). Nothing needs it where the program runs through its machine-code entry
(codegen/c_entry.py), which reads the arguments itself. Building that entry from a function
Numba has already run then compiled the program's module a second time as object code
(`emit_object`, ~1 s for W6).

So here the program is compiled once, with neither wrapper, and with its entry inside:
`compile_entry` types the arguments (no first call through Numba's dispatcher, which a
function without a CPython wrapper cannot have), and the program's library (`EntryLibrary`)
adds the entry's IR next to the program before Numba optimizes and emits the module. After
LLVM's module pipeline (which inlines the program into the entry, its one caller), everything
but the entry is made internal and what the entry does not reach is dropped (Numba's wrappers
of the helpers linked in, which call its helper library).
The object code Numba emits for the module is then the entry's object, as machine_cache.py
stores and loads it. The dispatcher compiling it is a private one, not Numba-cached: its
overload has no CPython wrapper, and Numba's cache index would give it to a dispatcher that
calls one. codegen/kernels.py's ProgramKernel falls back to the ordinary compile (with the
wrapper, then an entry built from that) whenever this fails for a signature.
"""
from __future__ import annotations

import re
import threading

from . import c_entry
from .program_library import ProgramCompiler, ProgramLibrary

_ENV = "_ZN08NumbaEnv"
# An entry longer than this (after LLVM's module pipeline) is made machine code by LLVM's fast
# instruction selector and register allocator: a long program is mostly calls of its kernels,
# gemm and the index helpers, which the entry reaches optimized and compiled as ever; only the
# program's own lines (the glue, the small loops written into it) are. W6's entry (its program
# inlined: ~6200 instructions, 535 blocks) took 0.8-1.1 s of its ~5.5 s compile to make machine
# code, 0.4-0.5 s so; its step time did not move. A short program is not: it is all glue, run
# in a few hundred ns, which the code generator's full optimization speeds up.
FAST_CODEGEN_MIN_INSTRUCTIONS = 3000
_PENDING = threading.local()      # .entry: (symbol, sig, function name) being compiled


class EntryLibrary(ProgramLibrary):
    """A native program's library that also holds its machine-code entry."""

    def finalize(self):
        symbol, sig, name = _PENDING.entry
        # the program's own function among those its module defines (Numba's Itanium-style
        # mangling of `<module>.<name>`: the ABI tags follow the B)
        mangled = re.compile(rf"_ZN.*\d+{name}B\d")
        native = [f for f in self._final_module.functions
                  if not f.is_declaration and mangled.match(f.name)]
        if len(native) != 1:
            raise LookupError(f"the program's function is not one of {len(native)}")
        params = [str(a.type) for a in native[0].arguments]
        if params != c_entry._params(sig):
            raise TypeError(f"unexpected calling convention for {native[0].name}: {params}")
        import llvmlite.binding as ll
        self.add_llvm_module(ll.parse_assembly(c_entry.wrapper_ir(symbol, native[0].name, sig)))
        # The entry is the program's one caller: inlined there, the program's ~5 + 2*ndim
        # words per array argument (~700 for W6's 90 arrays) are never passed on the stack,
        # which LLVM's code generator spent ~1 s of W6's compile on (4.1-4.6 s with it
        # inlined, 5.1-5.5 s without).
        program = self._final_module.get_function(native[0].name)
        program.linkage = "internal"
        program.add_function_attribute("alwaysinline")
        self._entry_symbol = symbol
        super().finalize()

    def _optimize_final_module(self):
        super()._optimize_final_module()
        module = self._final_module
        for g in list(module.functions) + list(module.global_variables):
            # (Numba's environment global: Numba stores its address after emitting the code)
            if not g.is_declaration and g.name != self._entry_symbol \
                    and not g.name.startswith(_ENV):
                g.linkage = "internal"
        c_entry._drop_dead(module, self._codegen._tm)
        c_entry._refuse_unlinkable(module)
        entry = module.get_function(self._entry_symbol)
        if _longer_than(entry, FAST_CODEGEN_MIN_INSTRUCTIONS):
            # optimized already: only the code generator reads these (fast instruction
            # selection and register allocation, as at -O0, for this function alone)
            entry.add_function_attribute("noinline")
            entry.add_function_attribute("optnone")


def _longer_than(function, n) -> bool:
    """Does the LLVM function hold more than n instructions?"""
    count = 0
    for block in function.blocks:
        count += sum(1 for _ in block.instructions)
        if count > n:
            return True
    return False


class EntryCompiler(ProgramCompiler):
    """ProgramCompiler whose library is an EntryLibrary."""

    def compile_extra(self, func):
        if self.state.library is None:
            library = EntryLibrary(self.state.targetctx.codegen(), func.__qualname__)
            library.enable_object_caching()      # where Numba keeps the object code it emits
            self.state.library = library
        return super().compile_extra(func)


def compile_entry(dispatcher, args, sig, symbol):
    """(object code, the private dispatcher that compiled it) of the entry `symbol` for the
    program `dispatcher` (its module's Numba dispatcher, never called) on arguments like
    `args`, of signature `sig` (machine_cache.signature), compiled without Numba's wrappers."""
    from numba import njit
    argtypes = tuple(dispatcher.typeof_pyval(a) for a in args)
    c_entry._check_types(argtypes, sig)
    opts = {k: v for k, v in dispatcher.targetoptions.items() if k not in ("cache", "nopython")}
    opts.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
    bare = njit(cache=False, pipeline_class=EntryCompiler, **opts)(dispatcher.py_func)
    _PENDING.entry = (symbol, sig, dispatcher.py_func.__name__)
    try:
        bare.compile(argtypes)
    finally:
        del _PENDING.entry
    cres = bare.overloads[argtypes]
    if str(cres.signature.return_type) not in c_entry._NOTHING:
        raise TypeError(f"it returns {cres.signature.return_type} (an entry returns None)")
    return cres.library._get_compiled_object(), bare
