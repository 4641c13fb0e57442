"""stepjit.functional answers for torch.functional: the official transfer-learning tutorial
writes `from torch.functional import F` (PyTorch's module imports nn.functional as F), and
programs import einsum, split, meshgrid, ... from torch.functional by name."""
import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as nnF


def test_F_is_nn_functional():
    from stepjit.functional import F
    assert F is nnF
    logits = stepjit.tensor([[1.0, 2.0, 0.5]])
    np.testing.assert_allclose(F.softmax(logits, dim=-1).sum().item(), 1.0, rtol=1e-6)


def test_its_functions_are_stepjits():
    import stepjit.functional as functional
    for name in functional.__all__:
        assert getattr(functional, name) is getattr(stepjit, name), name
    a, b = functional.meshgrid(stepjit.arange(2), stepjit.arange(3), indexing="ij")
    assert tuple(a.shape) == (2, 3)
    np.testing.assert_array_equal(
        functional.einsum("ij,jk->ik", stepjit.ones(2, 3), stepjit.ones(3, 4)).numpy(),
        np.full((2, 4), 3.0, np.float32))


def test_names_match_pytorch():
    torch = pytest.importorskip("torch")
    import stepjit.functional as functional
    missing = {"istft", "lu", "pca_lowrank", "stft", "svd_lowrank"}   # not in stepjit
    assert set(functional.__all__) == set(torch.functional.__all__) - missing
