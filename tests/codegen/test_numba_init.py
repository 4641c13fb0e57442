"""codegen/numba_init.py: a process that compiles kernels does not import scipy.linalg for
Numba's BLAS check, Numba's flag says what the check would have said, and a user's own Numba
code still gets NumPy's results from np.convolve (BLAS's or the loop's) and np.dot."""
import os
import subprocess
import sys

_CODE = """
import importlib.util, sys
import numpy as np
import stepjit as torch
from stepjit.codegen import kernels

f = torch.compile(lambda x: (x * 2.0).exp().sum())
x0 = np.linspace(0.0, 1.0, 5)
assert abs(f(torch.tensor(x0)).item() - np.exp(2 * x0).sum()) < 1e-9
assert any(k.startswith("stepjit_kernels.") for k in sys.modules), "nothing was compiled"
assert "scipy.linalg" not in sys.modules
from numba.np import arraymath
assert arraymath._HAVE_BLAS == (importlib.util.find_spec("scipy") is not None)

from numba import njit
a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
assert np.allclose(njit(lambda a, b: np.convolve(a, b))(a, b), np.convolve(a, b))
if arraymath._HAVE_BLAS:
    assert njit(lambda a, b: np.dot(a, b))(a, b) == np.dot(a, b)
"""


def test_compiling_imports_no_scipy_linalg_and_numba_blas_still_works(tmp_path):
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(tmp_path), STEPJIT_FIRST_CALL="compile")
    out = subprocess.run([sys.executable, "-c", _CODE], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
