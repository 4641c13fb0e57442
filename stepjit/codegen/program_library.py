"""How Numba builds a native program's code: its loop kernels linked in already optimized.

Numba compiles each function a program calls (a loop kernel that is not inlined, gemm, an
index helper) into a library of its own, optimized whole by LLVM (inlining, vectorizing) and
made machine code. Compiling the program then links every such library into the program's
module and runs LLVM's whole module pipeline over the result again, so each kernel is
optimized twice; only the program's own code (the glue, the small loops Numba inlined, the
small helpers they call) gains from it. So a native program is compiled by `ProgramCompiler`,
whose library (`ProgramLibrary`) links the libraries of those already optimized functions
after the module pipeline has run on the rest, not before. The code of each stays what its
own library made of it; the program calls it rather than inlining it (a call of a loop of
thousands of elements, a gemm or an index copy: nothing beside their work). Small helpers
(vmath, scalar, pointers, matmul_loops, Numba's own) are linked before as ever, so the loops
that call them are optimized with them inlined.

A loop kernel (or a repeated run's function) first compiled while its program compiles, as
Numba types the program's call of it, is only ever run inside that program: Numba would still
make machine code of it on its own (~15-35 ms a kernel, W3's nine: ~0.2 s of CPU) and store
that object code in its cache. Its library (`LinkOnlyLibrary`, `KernelCompiler`'s while a
program compiles) stops at its optimized module, which the program links; Numba's cache keeps
that module's bitcode, which a later process compiling the program links as well (a process
that runs the kernel itself, which none does, would have it made machine code then).

The libraries linked late are recognized by the symbol of the function they define: a loop
kernel of a generated module (`stepjit_kernels.*.loop<k>`) or a repeated run of its groups
(`repeat<k>`, codegen/repeats.py), codegen/gemm.py's `gemm` and the functions of
codegen/indexing.py. The program's cached machine code is unchanged in kind: one
module holding the program and all it calls. This module is part of every generated module's
cache key (codegen/kernels.py: `_HELPERS`), since it decides the code they are compiled to.
"""
from __future__ import annotations

import re
import threading

from numba.core.codegen import JITCodeLibrary
from numba.core.compiler import Compiler

# Numba's mangled names (Itanium: length-prefixed parts of the qualified name)
_OPTIMIZED_WHOLE = re.compile(
    r"_ZN15stepjit_kernels\d+p_[0-9a-f]+\d+(?:loop|repeat)\d+B"   # a program's loop kernel,
    # or a repeated run of its groups (codegen/repeats.py)
    r"|_ZN7stepjit7codegen4gemm4gemmB"                    # BLAS's gemm and its loops
    r"|_ZN7stepjit7codegen8indexing")                     # gathers, scatters, concat parts


def linked_late(library) -> bool:
    """Is `library` one whose code a program links as it is, after optimizing its own?"""
    module = library._get_module_for_linking()
    return any(not f.is_declaration and _OPTIMIZED_WHOLE.match(f.name)
               for f in module.functions)


class ProgramLibrary(JITCodeLibrary):
    """A native program's code library: `linked_late` libraries join the module after LLVM's
    module pipeline has run on the rest."""

    def finalize(self):
        late = [lib for lib in dict.fromkeys(self._linking_libraries) if linked_late(lib)]
        self._late = late
        self._linking_libraries = [lib for lib in self._linking_libraries if lib not in late]
        super().finalize()

    def _optimize_final_module(self):
        super()._optimize_final_module()
        for library in self._late:
            self._reload_init.update(library._reload_init)
            self._final_module.link_in(library._get_module_for_linking(), preserve=True)


_COMPILING = threading.local()     # .programs: how many programs this thread is compiling


class ProgramCompiler(Compiler):
    """Numba's default pipeline, with the program's code in a ProgramLibrary
    (`@njit(pipeline_class=ProgramCompiler)`)."""

    def compile_extra(self, func):
        if self.state.library is None:
            library = ProgramLibrary(self.state.targetctx.codegen(), func.__qualname__)
            library.enable_object_caching()     # as Numba's lowering does: the disk cache
            self.state.library = library
        depth = getattr(_COMPILING, "programs", 0)
        _COMPILING.programs = depth + 1     # (the kernels it calls compile inside: KernelCompiler)
        try:
            return super().compile_extra(func)
        finally:
            _COMPILING.programs = depth


class KernelCompiler(Compiler):
    """Numba's default pipeline for a program's loop kernel (`@njit(pipeline_class=...)`): its
    code in a LinkOnlyLibrary where it compiles inside its program's compile, as usual where it
    compiles alone (the compile helper's jobs, codegen/compile_helper.py: Numba's cache is what
    the program's process loads)."""

    def compile_extra(self, func):
        if self.state.library is None and getattr(_COMPILING, "programs", 0):
            self.state.library = LinkOnlyLibrary(self.state.targetctx.codegen(),
                                                 func.__qualname__)
        return super().compile_extra(func)


class LinkOnlyLibrary(JITCodeLibrary):
    """A code library finalized up to its optimized LLVM module (helpers linked, module passes
    run) and never made machine code in this process: what a program links, or an entry is
    built from (codegen/entry_compile.py). Numba's cache stores its module as bitcode."""

    def _finalize_final_module(self):
        self._finalize_dynamic_globals()
        self._verify_declare_only_symbols()
        self._finalized = True

    def get_pointer_to_function(self, name):
        return 0        # nothing of it runs on its own: no CPython wrapper, no machine code

    @property
    def codegen(self):
        return _NoEnvironment(self._codegen)

    def serialize_using_object_code(self):
        return self.serialize_using_bitcode()


class _NoEnvironment:
    """The library's codegen, less `set_env`, which Numba calls to store a compiled function's
    environment at its global's address in the JIT engine: this library's module is not
    there (the program's linked copy, or its entry, carries that global)."""

    def __init__(self, codegen):
        self._codegen = codegen

    def set_env(self, env_name, env):
        pass

    def __getattr__(self, name):
        return getattr(self._codegen, name)
