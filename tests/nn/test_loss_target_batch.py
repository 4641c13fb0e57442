"""A class-index target whose batch does not match the input's is PyTorch's ValueError
("Expected input batch_size (N) to match target batch_size (M)."), a 0-d target against a
batched input included (batch 0): PyTorch 0.3-era character models write
`loss += criterion(output, target[c])` with output (1, C), which PyTorch 2 refuses so."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn.functional as F

CASES = [((1, 7), ()), ((3, 7), ()), ((3, 7), (2,)), ((2, 7, 4), (3, 4))]


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss, torch.nn.CrossEntropyLoss()])
@pytest.mark.parametrize("in_shape,t_shape", CASES)
def test_batch_mismatch_is_value_error(loss, in_shape, t_shape):
    x = torch.randn(*in_shape, requires_grad=True)
    before = x.detach().clone()
    target = torch.zeros(t_shape, dtype=torch.int64)
    batch = t_shape[0] if t_shape else 0
    with pytest.raises(ValueError, match=rf"Expected input batch_size \({in_shape[0]}\) to match "
                                         rf"target batch_size \({batch}\)\..*test_loss_target"):
        loss(x, target)
    assert x.grad is None and torch.equal(x.detach(), before)


def test_matching_targets_still_work():
    x = torch.randn(3, 7, requires_grad=True)
    F.cross_entropy(x, torch.tensor([1, 0, 6])).backward()
    np.testing.assert_allclose(x.grad.sum(dim=1).numpy(), np.zeros(3), atol=1e-6)
    # unbatched: a (C,) input and a 0-d target is a valid pair
    assert F.cross_entropy(torch.randn(7), torch.tensor(2)).ndim == 0


@pytest.mark.parametrize("in_shape,t_shape", CASES)
def test_same_exception_as_pytorch(in_shape, t_shape):
    pt = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        pt.nn.functional.cross_entropy(pt.randn(*in_shape), pt.zeros(t_shape, dtype=pt.int64))
    with pytest.raises(ValueError) as ours:
        F.cross_entropy(torch.randn(*in_shape), torch.zeros(t_shape, dtype=torch.int64))
    assert str(ours.value).startswith(str(theirs.value))
