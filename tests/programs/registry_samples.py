"""The registry's SAMPLES compiled on a backend and compared with eager: a primitive is
backend-tested by being registered (tests/runtime/test_registry_samples.py runs them on cpu,
tests/cuda/sim/test_registry_samples.py under Numba's CUDA simulator)."""
import numpy as np

import stepjit
from stepjit.dispatch import apply
from stepjit.ir.primitives import PRIMITIVES
from tests.ir.test_registry import SAMPLES, _case_id


def traceable(name, sample):
    """False for a bool-mask index: its result's shape depends on the mask's values."""
    return PRIMITIVES[name].kind != "indexing" or not any(
        isinstance(a, np.ndarray) and a.dtype == bool and k > 0 for k, a in enumerate(sample.args))


# The first traceable sample of each primitive: every sample compiled costs a Numba compile
# on a cold cache (~0.3 s), and the registry's eager tests already cover each one.
CASES = [(name, next(i for i, s in enumerate(SAMPLES[name]) if traceable(name, s)))
         for name in sorted(SAMPLES)]
IDS = [_case_id(c) for c in CASES]


def check_compiled(case, backend, device="cpu"):
    name, i = case
    sample = SAMPLES[name][i]
    prim = PRIMITIVES[name]
    tensors = [t.to(device) if isinstance(t, stepjit.Tensor) else t for t in sample.tensors()]
    given = [t for t in tensors if isinstance(t, stepjit.Tensor)]

    def step(*ts):
        it = iter(ts)
        return apply(prim, *[next(it) if isinstance(a, stepjit.Tensor) else a for a in tensors],
                     **sample.attrs)

    want = step(*given)
    got = stepjit.compile(step, backend=backend)(*given)
    assert got.dtype is want.dtype and tuple(got.shape) == tuple(want.shape), name
    got, want = got.cpu().numpy(), want.cpu().numpy()
    if got.dtype.kind == "f":
        tol = 1e-6 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"{name} on {backend}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=f"{name} on {backend}")
