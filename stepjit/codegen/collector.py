"""Python's cyclic garbage collector, paused while Numba compiles.

A Numba compile allocates hundreds of thousands of small objects (its IR, types, LLVM IR
text and llvmlite's wrappers), and each of the collector's passes over the older
generations walks every object the process holds: the step's tensors and traces, Numba's
own registries, and the compile's objects so far. Over W6's native program (a ~4 s compile)
those passes cost ~0.3-0.6 s of CPU (one process, the same compile with the collector paused
and not, interleaved: 4.47 -> 3.87 s and 5.22 -> 4.92 s at load 13-16). Paused, the compile's
garbage is collected after it, by the collector's next pass; the process's peak memory grew by
~13 MB (210 -> 223 MB).
"""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused():
    """The collector off for the block (nested blocks: the outermost turns it back on), and
    on again after it where it was on before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
