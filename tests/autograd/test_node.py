"""autograd/node.py: the eager recorder's SavedTensor matches the class's own constructor."""
import numpy as np

import stepjit as torch
from stepjit.autograd.node import SavedTensor, save_tensor


def test_save_tensor_sets_what_the_constructor_sets():
    t = torch.tensor(np.arange(6.0).reshape(2, 3))
    t.add_(1)   # a version past the class default
    fast, plain = save_tensor(t), SavedTensor(t)
    for name in SavedTensor.__slots__:
        assert getattr(fast, name) is getattr(plain, name), name
    assert fast.version is t._version and fast.saved_version == 1
    t.add_(1)
    assert fast.saved_version == 1 and fast.version.value == 2
