"""nn.utils.prune's mechanics and errors (mask values against PyTorch:
test_nn_utils_recorded.py)."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import nn
from stepjit.nn.utils import prune


def test_random_pruning_counts_and_channels():
    torch.manual_seed(0)
    m = prune.random_unstructured(nn.Linear(5, 4), "weight", amount=0.3)
    assert int((m.weight_mask == 0).sum()) == 6
    assert prune.is_pruned(m) and list(dict(m.named_buffers())) == ["weight_mask"]
    c = prune.random_structured(nn.Conv1d(2, 4, 3), "weight", amount=2, dim=0)
    kept = c.weight_mask.numpy().reshape(4, -1)
    assert sorted(kept.min(1)) == [0, 0, 1, 1] and (kept.min(1) == kept.max(1)).all()


def test_pruned_entries_get_no_update():
    m = prune.l1_unstructured(nn.Linear(4, 3), "weight", amount=0.5)
    before = m.weight_orig.detach().numpy().copy()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        m(torch.randn(5, 4)).pow(2).sum().backward()
        opt.step()
    mask = m.weight_mask.numpy() == 0
    assert (m.weight_orig.grad.numpy()[mask] == 0).all()
    np.testing.assert_array_equal(m.weight_orig.detach().numpy()[mask], before[mask])
    assert (m.weight.detach().numpy()[mask] == 0).all()


def test_bad_amounts_raise_and_leave_the_module_as_it_was():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"should be smaller than the number of parameters"):
        prune.l1_unstructured(m, "weight", amount=7)
    assert "weight" in m._parameters and "weight_orig" not in m._parameters
    assert not prune.is_pruned(m)
    with pytest.raises(ValueError, match=r"float in the range \[0, 1\]"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.l1_unstructured(m, "weight", amount="half")
    with pytest.raises(ValueError, match="Structured pruning can only be applied"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")
    with pytest.raises(TypeError, match='Only "unstructured"'):
        prune.global_unstructured([(m, "weight")], prune.RandomStructured, amount=1)


def test_a_custom_method_and_prune_without_a_module():
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    m = nn.Linear(3, 2)
    EveryOther.apply(m, "bias")
    np.testing.assert_array_equal(m.bias_mask.numpy(), [0, 1])
    t = torch.arange(1.0, 5.0)
    np.testing.assert_array_equal(prune.L1Unstructured(amount=2).prune(t).numpy(), [0, 0, 3, 4])
    with pytest.raises(ValueError, match="Found 'other'"):
        prune.PruningContainer(prune.Identity(), prune.L1Unstructured(0.1)).add_pruning_method(
            _named(prune.Identity(), "other"))


def _named(method, name):
    method._tensor_name = name
    return method
