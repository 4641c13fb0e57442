"""Where this process's BLAS keeps its gemm, for native programs that call it directly.

A native program (codegen/native_program.py) is one machine-code function with no Python
between its kernels; until it could call BLAS it had to run its matmuls as generated
loops, so a step with a large matmul (the tutorial's two-layer step) stayed a Python
function calling `np.matmul` five times (~1.3 us each, and the Python between them).
NumPy links a BLAS library (its wheels bundle OpenBLAS, built with 64-bit integers and
its symbols renamed `scipy_cblas_sgemm64_`, ...); this module finds that library's
`cblas_sgemm` and `cblas_dgemm` and gives their addresses, which the runtime passes to
the program like a size (codegen/gemm.py makes the call). Nothing is baked into the
compiled code, so the on-disk caches stay valid in a process where the library is
loaded at another address.

Only the library NumPy already loaded is used (found among NumPy's own bundled
libraries, then among the process's mapped ones), so compiled and eager matmuls run
the same code with the same thread settings. No BLAS found, or STEPJIT_BLAS=0: native
programs keep generated loops and refuse large matmuls, as before.
"""
from __future__ import annotations

import ctypes
import glob
import os
from typing import NamedTuple

import numpy as np

from .. import config


class Gemm(NamedTuple):
    sgemm: int          # address of cblas_sgemm (float32)
    dgemm: int          # address of cblas_dgemm (float64)
    int_bits: int       # BLAS's integer width: 64 (ILP64, NumPy's wheels) or 32
    library: str        # the library's path, for messages


# (int width, sgemm name, dgemm name), most specific first: NumPy's renamed OpenBLAS,
# OpenBLAS's own ILP64 suffix, then the plain LP64 names every CBLAS has.
_NAMES = ((64, "scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_"),
          (64, "cblas_sgemm64_", "cblas_dgemm64_"),
          (32, "scipy_cblas_sgemm", "scipy_cblas_dgemm"),
          (32, "cblas_sgemm", "cblas_dgemm"))
_FOUND = []         # [Gemm or None] once looked up
# OpenBLAS's (get, set) of its thread count, in the same library: NumPy's renamed ILP64 build,
# then OpenBLAS's own names
_THREAD_NAMES = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                 ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                 ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                 ("openblas_get_num_threads", "openblas_set_num_threads"))
_THREADS = []       # [(get, set) or None] once looked up


def enabled() -> bool:
    return config.blas()


def gemm() -> Gemm | None:
    """The gemm functions of NumPy's BLAS in this process, or None (not found, or disabled)."""
    if not enabled():
        return None
    if not _FOUND:
        _FOUND.append(_find())
    return _FOUND[0]


def thread_functions():
    """(get, set) of the thread count of the BLAS gemm() found, as ctypes functions
    (`get()` -> int, `set(n)`), or None: no BLAS found, or it is not OpenBLAS. A compiled
    program sets it around its call (stepjit/programs/threads.py)."""
    if not _THREADS:
        found = gemm()
        lib = None if found is None else ctypes.CDLL(found.library)
        _THREADS.append(None)
        for get, put in _THREAD_NAMES if lib is not None else ():
            if hasattr(lib, get) and hasattr(lib, put):
                getter, setter = getattr(lib, get), getattr(lib, put)
                getter.restype, getter.argtypes = ctypes.c_int, []
                setter.restype, setter.argtypes = None, [ctypes.c_int]
                _THREADS[0] = (getter, setter)
                break
    return _THREADS[0]


def _find():
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for bits, s, d in _NAMES:
            if hasattr(lib, s) and hasattr(lib, d):
                return Gemm(_address(getattr(lib, s)), _address(getattr(lib, d)), bits, path)
    return None


def _address(fn) -> int:
    return ctypes.cast(fn, ctypes.c_void_p).value


def _candidates():
    """Libraries that may hold NumPy's BLAS: those bundled in NumPy's wheel (Linux, macOS,
    Windows layouts), then any BLAS-like library this process has mapped (Linux)."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    here = os.path.dirname(np.__file__)
    found = []
    for pattern in (os.path.join(root, "numpy.libs", "*"), os.path.join(here, ".dylibs", "*")):
        found += sorted(p for p in glob.glob(pattern) if "blas" in os.path.basename(p).lower())
    try:
        with open("/proc/self/maps") as f:
            mapped = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        mapped = set()
    found += sorted(p for p in mapped if any(k in os.path.basename(p).lower()
                                             for k in ("blas", "mkl_rt")))
    return list(dict.fromkeys(found))
