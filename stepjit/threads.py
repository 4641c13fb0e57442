"""`set_num_threads` / `get_num_threads`: the threads stepjit's parallel CPU kernels use.

Compiled CPU kernels run their large loops on Numba's thread pool, whose size is fixed when
the process starts (NUMBA_NUM_THREADS, the core count by default). A request above that size
is remembered and reported back, as PyTorch reports what was set, and the pool uses all it
has; a smaller one limits it. Numba is imported only by set_num_threads (a process whose
kernels all come from the on-disk cache never imports it otherwise). A count set here also
fixes the threads of compiled programs' matmuls (OpenBLAS's pool, set around each program's
call: stepjit/programs/threads.py), which otherwise choose between one thread and the pool's
size from their own call times; eager NumPy keeps its BLAS pool as the process started it
(OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before starting Python limit that one).
"""
from __future__ import annotations

import sys

from . import config

_REQUESTED = None


def _check(num, name):
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"{name} expects a positive integer, got {num!r}")


def set_num_threads(num: int) -> None:
    global _REQUESTED
    _check(num, "set_num_threads")
    import numba
    numba.set_num_threads(min(num, numba.config.NUMBA_NUM_THREADS))
    _REQUESTED = num


def get_num_threads() -> int:
    if _REQUESTED is not None:
        return _REQUESTED
    if "numba" in sys.modules:
        return sys.modules["numba"].get_num_threads()
    return config.numba_threads()


def set_num_interop_threads(num: int) -> None:
    _check(num, "set_num_interop_threads")


def get_num_interop_threads() -> int:
    return 1
