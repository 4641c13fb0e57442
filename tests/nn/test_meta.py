"""The meta device: tensors without data, modules built on it, load_state_dict(assign=True),
to_empty and skip_init (tests/nn/meta_programs.py against PyTorch's recorded values), and
the errors PyTorch raises for reading a meta tensor's values."""
import warnings
from pathlib import Path

import numpy as np
import pytest

import stepjit as torch
from stepjit import nn
from tests.nn import meta_programs

RECORDED = Path(__file__).parents[1] / "fixtures" / "meta" / "torch_meta.npz"


@pytest.mark.parametrize("name", sorted(meta_programs.PROGRAMS))
def test_program_matches_recorded_pytorch(name):
    got = meta_programs.PROGRAMS[name](torch)
    with np.load(RECORDED) as f:
        want = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith(name + "/")}
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} {k}")


def test_meta_tensors_have_shapes_and_no_values():
    m = torch.empty(2, 3, device="meta")
    assert m.is_meta and m.device == torch.device("meta") and m.device.type == "meta"
    assert repr(m) == "tensor(..., device='meta', size=(2, 3))"
    y = (m @ torch.zeros(3, 4, device="meta")).relu().sum(0) * torch.tensor(2.0)
    assert y.is_meta and tuple(y.shape) == (4,)
    assert torch.randn(5, device="meta", dtype=torch.float64).dtype is torch.float64
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        m.numpy()
    with pytest.raises(RuntimeError, match="item\\(\\) cannot be called on meta tensors"):
        m[0, 0].item()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        m.to("cpu")
    with pytest.raises(NotImplementedError, match="no data"):
        torch.zeros(2, 3).copy_(m)
    with pytest.raises(RuntimeError, match=r"add: Tensor on device cpu is not on the expected "
                                           r"device meta!.*\[2, 3\].*test_meta.py"):
        m + torch.ones(2, 3)


def test_backward_on_meta_gives_meta_gradients():
    x = torch.randn(3, 2, device="meta", requires_grad=True)
    (x.tanh() * 2).sum().backward()
    assert x.grad.is_meta and tuple(x.grad.shape) == (3, 2)


def test_building_on_meta_draws_no_random_numbers():
    torch.manual_seed(0)
    want = torch.randn(3)
    torch.manual_seed(0)
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(4, 4), nn.Conv2d(1, 2, 3), nn.LSTM(2, 3),
                              nn.Embedding(5, 2), nn.TransformerEncoderLayer(4, 2, 8))
    assert all(t.is_meta for t in list(model.parameters()) + list(model.buffers()))
    torch.randn(2, device="meta")
    np.testing.assert_array_equal(torch.randn(3).numpy(), want.numpy())
    assert torch.get_default_device() == torch.device("cpu")   # the block restored it


def test_loading_without_assign_into_meta_warns_and_keeps_meta():
    model = nn.Linear(3, 2, device="meta")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_state_dict(nn.Linear(3, 2).state_dict())
    assert any("copying from a non-meta parameter" in str(w.message) for w in caught)
    assert model.weight.is_meta
    with pytest.raises(NotImplementedError, match="use torch.nn.Module.to_empty"):
        model.to("cpu")
    assert not model.to_empty(device="cpu").weight.is_meta


def test_assign_binds_the_checkpoint_tensors():
    model = nn.Linear(3, 2, device="meta")
    state = nn.Linear(3, 2).state_dict()
    model.load_state_dict(state, assign=True)
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad
    assert model.weight._data is state["weight"]._data


def test_skip_init_refuses_non_modules_and_modules_without_device():
    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int, 3)
