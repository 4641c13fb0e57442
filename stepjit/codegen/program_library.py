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
