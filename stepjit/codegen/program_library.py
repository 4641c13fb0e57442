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

The libraries linked late are recognized by the symbol of the function they define: a loop
kernel of a generated module (`stepjit_kernels.*.loop<k>`) or a repeated run of its groups
(`repeat<k>`, codegen/repeats.py), codegen/gemm.py's `gemm` and the functions of
codegen/indexing.py. The program's cached machine code is unchanged in kind: one
module holding the program and all it calls. This module is part of every generated module's
cache key (codegen/kernels.py: `_HELPERS`), since it decides the code they are compiled to.

Those functions of the program's own module (its loop kernels and repeated runs) are compiled
by `LinkedCompiler`: only programs call them, by linking their optimized LLVM in, so their
library (`LinkedLibrary`) stops there and is never made machine code of its own, which Numba
would otherwise emit in the JIT engine for nothing (W6's seven: ~0.35 s of its ~4.5 s compile).
Numba's disk cache keeps their bitcode instead of object code.
"""
from __future__ import annotations

import re

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


class ProgramCompiler(Compiler):
    """Numba's default pipeline, with the program's code in a ProgramLibrary
    (`@njit(pipeline_class=ProgramCompiler)`)."""

    def compile_extra(self, func):
        if self.state.library is None:
            library = ProgramLibrary(self.state.targetctx.codegen(), func.__qualname__)
            library.enable_object_caching()     # as Numba's lowering does: the disk cache
            self.state.library = library
        return super().compile_extra(func)


class LinkedLibrary(JITCodeLibrary):
    """The library of a function that only native programs call (a loop kernel of a program's
    module, a repeated run of its groups): its optimized module is what a program links in,
    and nothing runs it on its own, so it is never made machine code of its own (W6: ~0.35 s
    of its program's compile went to emitting its seven kernels' code, never run). Numba's
    disk cache keeps its bitcode (a process that loads it from there makes the code then)."""

    def _finalize_final_module(self):
        self._finalize_dynamic_globals()
        self._verify_declare_only_symbols()
        self._finalized = True

    def get_pointer_to_function(self, name):
        return 0        # (Numba asks for its CPython wrapper, which it does not have)

    @property
    def codegen(self):
        return _Unrun(self._codegen)

    def serialize_using_object_code(self):
        return self.serialize_using_bitcode()


class _Unrun:
    """The codegen as a LinkedLibrary's compile sees it: Numba stores a compiled function's
    environment (the Python objects its error paths read) at its code's address, which a
    library never made machine code has not; the programs that link its code are entries that
    run with none (codegen/program_entry.py) or store their own."""

    def __init__(self, codegen):
        self._codegen = codegen

    def __getattr__(self, name):
        return getattr(self._codegen, name)

    def set_env(self, env_name, env):
        pass


class LinkedCompiler(Compiler):
    """Numba's default pipeline, with the function's code in a LinkedLibrary
    (`@njit(pipeline_class=LinkedCompiler)`)."""

    def compile_extra(self, func):
        if self.state.library is None:
            library = LinkedLibrary(self.state.targetctx.codegen(), func.__qualname__)
            library.enable_object_caching()
            self.state.library = library
        return super().compile_extra(func)
