"""The lazy layers beyond Linear/Conv1d/2d/BatchNorm1d/2d (3-D convolution, transposed
convolutions, BatchNorm3d, instance norms): each becomes the layer it stands for with that
layer's own initialization and output, and PyTorch's class, parameter and buffer names and
shapes; nn.UninitializedParameter/Buffer as PyTorch's; RNNCellBase and Container."""
import warnings

import numpy as np
import pytest

import stepjit
from stepjit import nn

# (lazy, the layer it becomes given its in_channels, input shape)
CASES = [
    (lambda m: m.LazyConv3d(4, 2), lambda m, c: m.Conv3d(c, 4, 2), (2, 3, 4, 4, 4)),
    (lambda m: m.LazyConvTranspose1d(4, 3, stride=2), lambda m, c: m.ConvTranspose1d(
        c, 4, 3, stride=2), (2, 3, 5)),
    (lambda m: m.LazyConvTranspose2d(4, 2, groups=1, padding=1), lambda m, c: m.ConvTranspose2d(
        c, 4, 2, padding=1), (2, 3, 4, 4)),
    (lambda m: m.LazyConvTranspose3d(2, 2), lambda m, c: m.ConvTranspose3d(c, 2, 2),
     (1, 3, 3, 3, 3)),
    (lambda m: m.LazyBatchNorm3d(), lambda m, c: m.BatchNorm3d(c), (2, 3, 2, 2, 2)),
    # (PyTorch's lazy instance norms are affine and track running statistics by default)
    (lambda m: m.LazyInstanceNorm1d(), lambda m, c: m.InstanceNorm1d(
        c, affine=True, track_running_stats=True), (2, 3, 5)),
    (lambda m: m.LazyInstanceNorm2d(affine=False, track_running_stats=False),
     lambda m, c: m.InstanceNorm2d(c), (2, 3, 4, 4)),
    (lambda m: m.LazyInstanceNorm3d(), lambda m, c: m.InstanceNorm3d(
        c, affine=True, track_running_stats=True), (2, 3, 2, 3, 3)),
]
IDS = ["conv3d", "convT1d", "convT2d", "convT3d", "bn3d", "in1d", "in2d_plain", "in3d"]


@pytest.mark.parametrize("lazy,concrete,shape", CASES, ids=IDS)
def test_lazy_becomes_its_layer_with_its_draws_and_output(lazy, concrete, shape):
    x = stepjit.from_numpy(np.random.RandomState(1).standard_normal(shape).astype(np.float32))
    stepjit.manual_seed(5)
    m = lazy(nn)
    params = list(m.parameters())
    assert all(isinstance(p, nn.UninitializedParameter) for p in params)
    state = stepjit.get_rng_state()
    y = m(x)
    stepjit.set_rng_state(state)
    ref = concrete(nn, shape[1])
    assert type(m) is type(ref)
    assert all(type(p) is nn.Parameter for p in params) and params == list(m.parameters())
    for (n, p), (rn, rp) in zip(m.state_dict().items(), ref.state_dict().items()):
        assert n == rn
        if n != "num_batches_tracked" and "running" not in n:
            np.testing.assert_array_equal(p.numpy(), rp.numpy(), err_msg=n)
    np.testing.assert_array_equal(y.detach().numpy(), ref(x).detach().numpy())


@pytest.mark.parametrize("lazy,concrete,shape", CASES, ids=IDS)
def test_lazy_matches_pytorch_names_and_shapes(lazy, concrete, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = lazy(nn), lazy(torch.nn)
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    assert tuple(ours(stepjit.from_numpy(x)).shape) == tuple(theirs(torch.from_numpy(x)).shape)
    assert type(ours).__name__ == type(theirs).__name__
    assert [(n, tuple(t.shape)) for n, t in ours.state_dict().items()] == \
        [(n, tuple(t.shape)) for n, t in theirs.state_dict().items()]


def test_uninitialized_parameter_and_buffer():
    p = nn.UninitializedParameter()
    b = nn.UninitializedBuffer()
    assert isinstance(p, nn.Parameter) and p.requires_grad and repr(p) == "<UninitializedParameter>"
    assert not b.requires_grad and repr(b) == "<UninitializedBuffer>"
    p.materialize((2, 3))
    b.materialize((4,), dtype=stepjit.float64)
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    assert type(b) is stepjit.Tensor and b.dtype is stepjit.float64 and tuple(b.shape) == (4,)
    assert nn.parameter.UninitializedParameter is nn.UninitializedParameter


def test_rnn_cell_base_and_container():
    cell = nn.RNNCellBase(3, 5, True, 4)
    assert [(n, tuple(p.shape)) for n, p in cell.named_parameters()] == [
        ("weight_ih", (20, 3)), ("weight_hh", (20, 5)), ("bias_ih", (20,)), ("bias_hh", (20,))]
    assert isinstance(nn.LSTMCell(3, 5), nn.RNNCellBase)
    with pytest.warns(UserWarning, match="nn.Container is deprecated"):
        c = nn.Container(fc=nn.Linear(2, 3))
    assert [n for n, _ in c.named_parameters()] == ["fc.weight", "fc.bias"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(nn.NLLLoss2d(), nn.NLLLoss)
