"""The interface every backend's program implements, written down once.

    program = stepjit.programs.build(graph, backend, keep)
    program.run(env) -> env     fill env (Value -> array) with every value of the graph a caller
                                may read: outputs, writes, and the values in `keep`
    program.promote() -> bool   the runtime found the program hot: run it as one native
                                function from now on if it can; True when it changed
    program.direct_plan()       (NativeCall, rename) for a caller that calls the native
                                function itself (runtime/fastcall.py), or None
    program.kernel_sources()    the source of every kernel it runs
    program.materialize_all     True when every value it computes is left in env (check mode)
    program.record              the pipeline's record it runs (stepjit/pipeline.py), or None
    program.is_native           it runs as one native function now
    program.unwrapped()         the program that runs (a wrapper's inner program)

`keep`: values the caller reads after the run besides outputs and writes (data-dependent
decisions); None when unknown, () when there are none.
"""
from __future__ import annotations

from ..ir.impl import raise_check

# Called (no arguments) when a program the runtime promoted goes native later, at a run of its
# own (programs/cpu.py: a helper process was building it): the runtime's fast calls, which ran
# it as a whole program, are rebuilt to call its native function (runtime/compiled.py).
NATIVE_READY = []
# A trace re-verified at this reuse or later is hot: the runtime promotes its small programs to
# native (runtime/compiled.py, which re-verifies at uses 1, 8, 64, ...). Not sooner: a native
# compile costs a second or more, which a short run (a test, a script of a few dozen steps)
# should not pay; a training loop reaches it within its first hundred calls. Here, below the
# runtime, because a program also plans by it (cpu.py: whether a helper process pays).
HOT_REUSE = 64


class Program:
    """Defaults for what a backend's program does not do (no native form, no kernels)."""
    backend = "?"
    record = None
    materialize_all = False
    shape_generic = False

    def run(self, env):
        raise NotImplementedError

    def promote(self) -> bool:
        return False

    def direct_plan(self):
        return None

    def kernel_sources(self) -> list:
        return []

    @property
    def is_native(self) -> bool:
        return False

    @property
    def settling(self) -> bool:
        """Still changing how it runs: kernels compiling while groups run interpreted, or a
        native program being built (time to steady state ends when none is)."""
        return False

    def unwrapped(self):
        return self


def raise_failed_checks(checks):
    """After a native program (which returns early when a flag is set): raise the error of the
    check whose flag is set, from `checks` [(node, its flag's buffer as a 1-element view)]."""
    for node, flag in checks:
        if flag[0] > 0:
            raise_check(node, flag)
