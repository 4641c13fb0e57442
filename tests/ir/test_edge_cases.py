"""Every primitive and the common composites at 0, -0.0, +-inf, nan, extreme normals, a
denormal, empty, 0-d and int64 inputs, against PyTorch's recorded values and gradients:
eagerly, compiled on the interpret backend (all cases) and on the cpu backend (a subset
whose kernels stay within the test-time budget). The table is tests/ir/edge_cases.py;
differences PyTorch documents as unspecified are in docs/edge_cases.md, not here."""
import warnings
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit.ir.primitives import PRIMITIVES
from tests.fixtures import oracle
from tests.ir.edge_cases import EXEMPT, KNOWN, KNOWN_COMPILED, PUBLIC, all_cases, ops_for

FIXTURE = Path(__file__).parent.parent / "fixtures" / "edge" / "torch_edge.npz"
TABLE = oracle.load(FIXTURE)
CASES = {c.name: c for c in all_cases()}
# Run compiled on the cpu backend too: one kernel each, float64.
CPU = ["exp/float64", "div/float64", "maximum/float64", "sign/float64", "relu/float64",
       "floor_divide/float64", "pow/float64", "logsumexp/float64", "norm/float64",
       "sum/float64", "clamp/float64"]


def test_every_registry_entry_has_edge_cases():
    missing = [name for name in sorted(PRIMITIVES)
               if name not in EXEMPT and not ops_for(name)]
    assert not missing, (
        f"primitives without edge-case samples: {missing}. Add each one's public spelling to "
        "a table in tests/ir/edge_cases.py (UNARY, BINARY, REDUCE, SCAN or OTHER; EXEMPT with "
        "the reason if PyTorch cannot be compared value for value), then record PyTorch's "
        "values with `python -m tests.fixtures edge`.")
    unknown = sorted(set(PUBLIC) - set(PRIMITIVES))
    assert not unknown, f"tests/ir/edge_cases.py names primitives that do not exist: {unknown}"


def test_every_case_is_recorded():
    absent = sorted(set(CASES) - set(TABLE))
    assert not absent, (f"{len(absent)} edge cases are not recorded ({absent[:5]} ...): run "
                        "`python -m tests.fixtures edge` where PyTorch is installed")


def _compiled(backend):
    def run_case(case):
        ts = oracle.tensors(stepjit, case)

        def step(*ts):
            outs = oracle.outputs(case.fn(stepjit, *ts))
            loss = None
            for i, o in enumerate(outs):
                if getattr(o, "requires_grad", False):
                    cot = stepjit.from_numpy(oracle.cotangent(case.name, i, tuple(o.shape)))
                    term = (o * cot.to(o.dtype)).sum()
                    loss = term if loss is None else loss + term
            if loss is not None:
                loss.backward()
            return tuple(o.detach() if hasattr(o, "detach") else o for o in outs)

        outs = stepjit.compile(step, backend=backend)(*ts)
        got = {f"out{i}": np.asarray(o.numpy() if hasattr(o, "numpy") else o)
               for i, o in enumerate(outs)}
        for i in case.grad:
            if any(f"grad{j}" in TABLE[case.name] for j in case.grad):
                g = ts[i].grad
                got[f"grad{i}"] = np.zeros(case.inputs[i].shape) if g is None else g.numpy()
        return got
    return run_case


def _check(case, run_case):
    want = TABLE[case.name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if "error" in want:
            with pytest.raises(Exception):
                run_case(case)
            return
        got = run_case(case)
    for k in sorted(want):
        g, w = np.asarray(got[k]), np.asarray(want[k])
        assert g.shape == w.shape, f"{case.name} {k}: shape {g.shape}, PyTorch {w.shape}"
        if w.dtype.kind == "f" or g.dtype.kind == "f":
            # float32 results within a few ulps (PyTorch's vectorized math is not NumPy's);
            # denormal results within the denormal range (flushed or rounded differently)
            f32 = np.float32 in (g.dtype, w.dtype)
            rtol = max(case.tol, 2e-6) if f32 else case.tol
            atol = float(np.finfo(np.float32 if f32 else np.float64).tiny)
            if f32 and k.startswith("grad"):
                atol = 1e-6 * max(1.0, float(np.nanmax(np.abs(w[np.isfinite(w)]), initial=0)))
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=f"{case.name} {k}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{case.name} {k}")


def _params(names, known=KNOWN):
    return [pytest.param(n, marks=pytest.mark.xfail(reason=known[n], strict=True))
            if n in known else n for n in names]


@pytest.mark.parametrize("name", _params(sorted(CASES)))
def test_eager_matches_pytorch(name):
    _check(CASES[name], lambda case: oracle.run(stepjit, case))


@pytest.mark.parametrize("name", _params(sorted(CASES), {**KNOWN, **KNOWN_COMPILED}))
def test_interpret_matches_pytorch(name):
    _check(CASES[name], _compiled("interpret"))


@pytest.mark.parametrize("name", _params(CPU, {**KNOWN, **KNOWN_COMPILED}))
def test_cpu_matches_pytorch(name):
    _check(CASES[name], _compiled("cpu"))
