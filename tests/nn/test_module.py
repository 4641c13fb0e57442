"""nn.Module: registration, traversal, modes, state_dict, dtype conversion and repr."""
import copy

import numpy as np
import pytest

import stepjit
import stepjit.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("running", stepjit.zeros(2))
        self.register_buffer("scratch", stepjit.ones(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) + self.running


def test_setattr_registers_parameters_modules_and_plain_attributes():
    m = Net()
    assert list(m._parameters) == []
    assert list(m._modules) == ["fc1", "act", "fc2"]
    m.scale = nn.Parameter(stepjit.ones(1))
    m.note = 3
    assert "scale" in m._parameters and "note" not in m._parameters
    assert m.scale is m._parameters["scale"]
    with pytest.raises(TypeError):
        m.scale = stepjit.ones(1)  # a parameter slot takes only a Parameter or None
    m.scale = None
    assert m.scale is None and list(m.parameters())[-1] is m.fc2.bias


def test_reassigning_a_parameter_keeps_its_position():
    m = nn.Linear(2, 2)
    m.weight = nn.Parameter(stepjit.zeros(2, 2))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert m.weight.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_named_parameters_recurse_and_dedup():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == []
    shared = nn.Sequential(m.fc1, m.fc1)  # the same module twice: its parameters once
    assert len(list(shared.parameters())) == 2
    assert [n for n, _ in shared.named_modules()] == ["", "0"]
    assert len(list(shared.named_parameters(remove_duplicate=False))) == 4


def test_children_modules_buffers():
    m = Net()
    assert list(m.children()) == [m.fc1, m.act, m.fc2]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert m.get_submodule("fc2") is m.fc2


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError):
        m.register_parameter("w", stepjit.ones(2))
    with pytest.raises(TypeError):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing
    with pytest.raises(NotImplementedError, match="forward"):
        m(1)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(stepjit.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_delattr_removes_registration():
    m = Net()
    del m.fc1
    assert "fc1" not in m._modules
    with pytest.raises(AttributeError):
        m.fc1


def test_train_eval_propagate():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    assert m.training and m[1].training
    assert m.eval() is m
    assert not m.training and not m[1].training
    m.train()
    assert m[1].training
    with pytest.raises(ValueError):
        m.train("yes")


def test_zero_grad_set_to_none_and_zero():
    m = nn.Linear(3, 2)
    m(stepjit.ones(1, 3)).sum().backward()
    w_grad = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is w_grad and np.all(w_grad.numpy() == 0)
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_state_dict_roundtrip_and_sharing():
    m = Net()
    sd = m.state_dict()
    assert list(sd) == ["running", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert not sd["fc1.weight"].requires_grad  # detached views, sharing storage
    sd["fc1.bias"].add_(1)
    assert np.allclose(sd["fc1.bias"].numpy(), m.fc1.bias.detach().numpy())
    other = Net()
    w = other.fc1.weight
    result = other.load_state_dict(m.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert other.fc1.weight is w  # copied into, not replaced
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), other.state_dict()[k].numpy())


def test_load_state_dict_errors_and_non_strict():
    m = Net()
    sd = m.state_dict()
    del sd["fc2.bias"]
    sd["extra"] = stepjit.ones(1)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc2.bias"'):
        m.load_state_dict(sd)
    keys = m.load_state_dict(sd, strict=False)
    assert keys.missing_keys == ["fc2.bias"] and keys.unexpected_keys == ["extra"]
    bad = m.state_dict()
    bad["fc1.weight"] = stepjit.ones(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        m.load_state_dict(bad)


def test_apply_visits_children_first():
    m = Net()
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_to_double_keeps_parameter_objects():
    m = Net()
    w = m.fc1.weight
    m(stepjit.ones(1, 3)).sum().backward()
    assert m.double() is m
    assert m.fc1.weight is w and w.dtype is stepjit.float64 and w.grad.dtype is stepjit.float64
    assert m.running.dtype is stepjit.float64
    m.to(stepjit.float32)
    assert w.dtype is stepjit.float32
    assert m.to("cpu") is m and m.cpu() is m
    m.float()
    assert m(stepjit.ones(2, 3)).dtype is stepjit.float32
    with pytest.raises(TypeError):
        m.to(stepjit.int64)


def test_requires_grad_():
    m = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_deepcopy_gives_independent_parameters():
    m = Net()
    c = copy.deepcopy(m)
    assert isinstance(c.fc1.weight, nn.Parameter) and c.fc1.weight is not m.fc1.weight
    with stepjit.no_grad():
        c.fc1.weight.add_(1)
    assert not np.allclose(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())


def test_repr_matches_pytorch_layout():
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Sequential(nn.Linear(2, 1, bias=False),
                                                              nn.Sigmoid()))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=1, bias=False)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.MSELoss()) == "MSELoss()"


def test_cuda_is_refused_and_loss_weights_are_buffers():
    if not stepjit.cuda.is_available():   # with a device, tests/cuda covers Module.cuda()
        with pytest.raises(RuntimeError, match="CUDA"):
            nn.Linear(2, 2).cuda()
    loss = nn.CrossEntropyLoss(weight=stepjit.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []  # None buffers are not saved


class _Shared(nn.Module):
    """One Linear under two names, a persistent, a non-persistent and a None buffer."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = self.a
        self.register_buffer("r", stepjit.zeros(2))
        self.register_buffer("np_", stepjit.ones(2), persistent=False)
        self.register_buffer("none", None)


def test_load_state_dict_walks_shared_modules_and_reports_keys_as_pytorch():
    # Expected values are PyTorch 2.13's for the same module (tests/nn/test_nn_torch_oracle.py).
    m = _Shared()
    sd = m.state_dict()
    assert list(sd) == ["r", "a.weight", "a.bias", "b.weight", "b.bias"]
    assert [n for n, _ in m.named_buffers()] == ["r", "np_"]
    assert repr(m.load_state_dict(sd)) == "<All keys matched successfully>"
    bad = dict(sd, np_=stepjit.ones(2), **{"a.extra": stepjit.ones(1), "zz.q": stepjit.ones(1)})
    del bad["r"]
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    assert str(err.value) == ('Error(s) in loading state_dict for _Shared:\n\t'
                              'Missing key(s) in state_dict: "r". \n\t'
                              'Unexpected key(s) in state_dict: "np_", "zz.q", "a.extra". ')
    keys = m.load_state_dict(bad, strict=False)
    assert keys == (["r"], ["np_", "zz.q", "a.extra"])
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1])


def test_load_state_dict_casts_on_copy_and_keeps_dtype_on_assign():
    m = _Shared()
    w = m.a.weight
    sd = dict(m.state_dict(), r=stepjit.ones(2, dtype=stepjit.float64))
    m.load_state_dict(sd)
    assert m.r.dtype == stepjit.float32 and m.r.tolist() == [1.0, 1.0]
    m.load_state_dict(sd, assign=True)
    assert m.r.dtype == stepjit.float64 and m.r is sd["r"]
    assert isinstance(m.a.weight, nn.Parameter) and m.a.weight.requires_grad and m.a.weight is not w
    with pytest.raises(RuntimeError, match='expected stepjit.Tensor or Tensor-like object from '
                       "checkpoint but received <class 'float'>"):
        m.load_state_dict(dict(sd, **{"a.weight": 3.0}))


def test_assigning_an_nn_buffer_registers_it():
    """`self.x = nn.Buffer(t, persistent=...)` as PyTorch (the rotary caches of nanoGPT
    variants): a buffer, left out of state_dict when not persistent; the values are PyTorch's
    (checked against it live once: same keys, names and errors)."""
    import stepjit
    nn = stepjit.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.cos = nn.Buffer(stepjit.arange(3.0), persistent=False)
            self.scale = nn.Buffer(stepjit.ones(2))

    m = M()
    assert list(m.state_dict()) == ["scale", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == ["cos", "scale"]
    assert isinstance(m.cos, nn.Buffer) and not isinstance(stepjit.ones(1), nn.Buffer)
    m.scale = stepjit.zeros(2)                       # a plain tensor into a buffer's name
    assert m.scale.tolist() == [0.0, 0.0] and "scale" in m._buffers
    m.cos = nn.Buffer(stepjit.ones(1), persistent=True)
    assert list(m.state_dict()) == ["cos", "scale", "lin.weight", "lin.bias"]
    assert m.double().cos.dtype is stepjit.float64
    m.x = 3
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.x = nn.Buffer(stepjit.ones(1))
