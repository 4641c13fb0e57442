"""SparseAdam: PyTorch's argument checks, and its refusal of dense gradients (stepjit has
no sparse gradients, so nn.Embedding(sparse=True) tables reach it with dense ones)."""
import pytest

import stepjit as torch
from stepjit import nn


def test_refuses_dense_gradients_as_pytorch_with_the_reason():
    emb = nn.Embedding(10, 3, sparse=True)
    opt = torch.optim.SparseAdam(list(emb.parameters()), lr=0.1)
    opt.step()                           # no gradient yet: nothing to do
    before = emb.weight.detach().clone()
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match=r"SparseAdam does not support dense gradients, "
                                           r"please consider Adam instead.*\[10, 3\]"):
        opt.step()
    assert torch.equal(emb.weight.detach(), before)   # nothing was written


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
])
def test_argument_checks(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        torch.optim.SparseAdam([torch.zeros(2, requires_grad=True)], **kwargs)


def test_matches_live_pytorch_errors():
    real = pytest.importorskip("torch")
    emb = real.nn.Embedding(10, 3)
    opt = real.optim.SparseAdam(list(emb.parameters()))
    emb(real.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()
