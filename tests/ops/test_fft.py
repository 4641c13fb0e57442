"""torch.fft (tests/ops/fft_cases.py) against PyTorch's recorded values and gradients, finite
differences, a live PyTorch where installed and compiled vs eager; its errors."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.fft_cases import CASES, NOT_BY_DIFFERENCES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "fft" / "torch_fft.npz"

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name, float_tol=case.tol)

    def by_differences(self, case):
        return bool(case.grad) and case.name not in NOT_BY_DIFFERENCES

    def test_compiled_matches_eager(self, compiled_case):
        # (interpreted: the fft primitive runs its NumPy impl on every backend; the cpu
        # backend's kernels are the training step's below)
        checks.compiled_matches_eager(compiled_case, backend="interpret")


def test_default_dtype_frequencies():
    assert stepjit.fft.fftfreq(4).dtype is stepjit.float32
    assert stepjit.fft.fftfreq(4).tolist() == [0.0, 0.25, -0.5, -0.25]
    assert stepjit.fft.fft(stepjit.arange(4)).dtype is stepjit.complex64


def test_errors_are_pytorchs():
    x = stepjit.ones(4)
    z = stepjit.fft.fft(x)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor"):
        stepjit.fft.rfft(z)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        stepjit.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        stepjit.fft.irfft(stepjit.fft.rfft(stepjit.ones(1)))
    with pytest.raises(IndexError, match="Dimension out of range"):
        stepjit.fft.fft(x, dim=1)
    with pytest.raises(ValueError, match="Invalid normalization mode: sideways"):
        stepjit.fft.fft(x, norm="sideways")


def test_a_spectral_training_step_compiles_and_matches_eager():
    """A learned filter applied in the frequency domain, trained by SGD."""
    rng = np.random.default_rng(3)
    signals = stepjit.from_numpy(rng.standard_normal((4, 16)))
    target = stepjit.from_numpy(np.cumsum(rng.standard_normal((4, 16)), axis=1) * 0.1)
    results = []
    for compiled in (False, True):
        gain = stepjit.ones(9, dtype=stepjit.float64, requires_grad=True)
        opt = stepjit.optim.SGD([gain], lr=0.05)

        def step(x, y):
            opt.zero_grad()
            out = stepjit.fft.irfft(stepjit.fft.rfft(x) * gain, n=x.shape[-1])
            loss = ((out - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = stepjit.compile(step) if compiled else step
        results.append([f(signals, target).item() for _ in range(4)] + gain.tolist())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-14)
    assert f.stats()["fallbacks"] == 0 and f.stats()["mode"] == "tree"
