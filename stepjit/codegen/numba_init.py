"""What a process does before its first Numba compile: Numba's BLAS check without SciPy.

Numba's CPU target imports its NumPy implementations (`numba.np.arraymath`) at its first
compile, and that module's import asks whether SciPy's BLAS is there (`_HAVE_BLAS`) by
importing `scipy.linalg.cython_blas`: all of scipy.linalg, and numpy.f2py with it, ~0.16 s
of CPU (0.3 s under load) in every process that compiles, where SciPy is installed. The
answer is read by one thing only, np.convolve/np.correlate's inner product when typed; a
generated kernel calls BLAS through codegen/blas.py and never through Numba.

So `prepare` imports that module with the SciPy import held back, then sets the flag to
whether SciPy is installed, which is what Numba would have found. Where a user's own Numba
code types a BLAS function (np.dot, np.convolve of floats, np.linalg.*), Numba imports SciPy
then, as it always does (`numba.np.linalg.ensure_blas`). A process that imported SciPy
already, or Numba's NumPy implementations, is left as it is.
"""
from __future__ import annotations

import importlib.util
import sys
import threading

_BLAS = "scipy.linalg.cython_blas"
_LOCK = threading.Lock()


def prepare() -> None:
    """Import Numba's NumPy implementations without importing SciPy, once per process."""
    if "numba.np.arraymath" in sys.modules or _BLAS in sys.modules:
        return
    with _LOCK:
        if "numba.np.arraymath" in sys.modules or _BLAS in sys.modules:
            return
        sys.modules[_BLAS] = None        # `import` of it raises ImportError at once
        try:
            from numba.np import arraymath
        finally:
            if _BLAS in sys.modules and sys.modules[_BLAS] is None:
                del sys.modules[_BLAS]
        arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None
