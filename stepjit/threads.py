"""`set_num_threads` / `get_num_threads`: the threads stepjit's parallel CPU kernels use.

Compiled CPU kernels run their large loops on Numba's thread pool, whose size is fixed when
the process starts (NUMBA_NUM_THREADS, the core count by default). A request above that size
is remembered and reported back, as PyTorch reports what was set, and the pool uses all it
has; a smaller one limits it. (NumPy's BLAS keeps its own pool: set OMP_NUM_THREADS before
starting Python to limit that one.)
"""
from __future__ import annotations

import numba

_REQUESTED = None


def set_num_threads(num: int) -> None:
    global _REQUESTED
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {num!r}")
    numba.set_num_threads(min(num, numba.config.NUMBA_NUM_THREADS))
    _REQUESTED = num


def get_num_threads() -> int:
    return numba.get_num_threads() if _REQUESTED is None else _REQUESTED


def set_num_interop_threads(num: int) -> None:
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {num!r}")


def get_num_interop_threads() -> int:
    return 1
