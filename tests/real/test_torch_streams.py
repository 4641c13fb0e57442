"""tests/real/torch_streams.py: while recording, PyTorch's random functions draw stepjit's
numbers, in every call form the programs use (needs PyTorch; skipped without it)."""
import numpy as np
import pytest

import stepjit
from tests.real.torch_streams import stepjit_streams


def _stepjit_draws():
    stepjit.manual_seed(1)
    return stepjit.rand(3, dtype=stepjit.float64).numpy(), stepjit.randn(2, 2).numpy()


def test_draws_are_stepjits_including_out():
    torch = pytest.importorskip("torch")
    want_rand, want_randn = _stepjit_draws()
    with stepjit_streams(torch):
        torch.manual_seed(1)
        target = torch.empty(3, dtype=torch.float64)
        assert torch.rand(3, out=target) is target          # out= is filled, in out's dtype
        randn = torch.randn(2, 2)
    np.testing.assert_array_equal(target.numpy(), want_rand)
    np.testing.assert_array_equal(randn.numpy(), want_randn)
