"""Bad input to the layers and losses raises naming the op and the shapes; containers
register what they hold."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit.errors import StepjitError

BAD = [
    ("conv2d channels", lambda: nn.Conv2d(3, 4, 3)(torch.ones(1, 2, 5, 5)),
     ["conv2d", "[1, 2, 5, 5]", "3 channels"]),
    ("conv2d rank", lambda: nn.Conv2d(3, 4, 3)(torch.ones(3, 5)), ["conv2d", "[3, 5]"]),
    ("conv2d kernel too big", lambda: F.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3)),
     ["conv2d", "kernel size 3"]),
    ("conv1d weight", lambda: F.conv1d(torch.ones(1, 2, 5), torch.ones(2, 2)), ["conv1d", "[2, 2]"]),
    ("max_pool2d pad", lambda: F.max_pool2d(torch.ones(1, 1, 4, 4), 2, padding=2),
     ["max_pool2d", "pad=2"]),
    ("layer_norm shape", lambda: nn.LayerNorm(4)(torch.ones(2, 3)),
     ["layer_norm", "[4]", "[2, 3]"]),
    ("group_norm groups", lambda: F.group_norm(torch.ones(2, 3, 4), 2),
     ["group_norm", "[2, 3, 4]", "num_groups=2"]),
    ("batch_norm channels", lambda: nn.BatchNorm1d(4)(torch.ones(3, 5)),
     ["batch_norm", "running_mean", "4"]),
    ("embedding float", lambda: nn.Embedding(3, 2)(torch.ones(2)), ["embedding", "float32"]),
    ("pad length", lambda: F.pad(torch.ones(2, 2), (1, 1, 1)), ["pad", "[2, 2]"]),
    ("pad reflect too big", lambda: F.pad(torch.ones(1, 3), (3, 0), mode="reflect"),
     ["pad", "size 3"]),
    ("sdpa sizes", lambda: F.scaled_dot_product_attention(torch.ones(2, 3), torch.ones(4, 5),
                                                          torch.ones(4, 5)),
     ["scaled_dot_product_attention", "[2, 3]", "[4, 5]"]),
    ("gaussian_nll var", lambda: F.gaussian_nll_loss(torch.ones(2, 3), torch.ones(2, 3),
                                                     torch.ones(3, 2)),
     ["gaussian_nll_loss", "[3, 2]", "[2, 3]"]),
]


@pytest.mark.parametrize("name,fn,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_op_and_shapes(name, fn, words):
    with pytest.raises((StepjitError, RuntimeError, ValueError)) as info:
        fn()
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{name}: {w!r} not in {msg!r}"


def test_lstm_and_batchnorm_raise_pytorchs_errors():
    with pytest.raises(RuntimeError, match="input_size"):
        nn.LSTM(3, 4)(torch.ones(2, 1, 5))
    with pytest.raises(RuntimeError, match="hidden size"):
        nn.GRU(3, 4)(torch.ones(2, 1, 3), torch.ones(1, 2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(torch.ones(1, 3))
    # PyTorch's text names the Size (d2l's fcn chapter prints it): torch.Size([1, 512, 1, 1])
    with pytest.raises(ValueError, match=r"got input size stepjit\.Size\(\[1, 2, 1, 1\]\)$"):
        nn.BatchNorm2d(2)(torch.ones(1, 2, 1, 1))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(torch.ones(2, 3))


def test_containers_register_their_contents():
    d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    d["c"] = nn.Linear(2, 1)
    assert list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias", "c.weight", "c.bias"]
    pl = nn.ParameterList([torch.ones(2), nn.Parameter(torch.zeros(3))])
    pl.append(torch.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad
    pd = nn.ParameterDict({"w": torch.ones(2)})
    pd["b"] = torch.zeros(1)
    assert sorted(n for n, _ in pd.named_parameters()) == ["b", "w"]

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = pl
            self.blocks = d
    assert len(list(M().parameters())) == 7
    sd = M().state_dict()
    assert "ps.0" in sd and "blocks.a.weight" in sd


def test_batchnorm_eval_uses_running_stats_and_train_updates_them():
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(3, momentum=0.5).double()
    x = torch.randn(8, 3, dtype=torch.float64) * 2 + 1
    bn(x)
    xm = x.numpy()
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * xm.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.5 + 0.5 * xm.var(0, ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = bn(x).detach().numpy()
    want = (xm - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(y, want, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1


def test_dropout_variants_zero_whole_channels_and_keep_eval_identity():
    torch.manual_seed(0)
    x = torch.ones(4, 6, 5)
    y = nn.Dropout1d(0.5)(x).numpy()
    per_channel = y.reshape(4, 6, 5)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert (per_channel == 0).any() and (per_channel == 2).any()
    d2 = nn.Dropout2d(0.5)
    d2.eval()
    assert d2(torch.ones(2, 3, 4, 4)).numpy().min() == 1
    a = nn.AlphaDropout(0.2)(torch.randn(20000, dtype=torch.float64)).numpy()
    assert abs(a.mean()) < 0.05 and abs(a.std() - 1) < 0.05   # keeps zero mean, unit variance


PROJ_SIZE = [
    lambda m: m.nn.LSTM(3, 4, proj_size=4),
    lambda m: m.nn.LSTM(3, 4, proj_size=-1),
    lambda m: m.nn.GRU(3, 4, proj_size=2),
    lambda m: m.nn.LSTM(3, 4, proj_size=2)(m.ones(5, 2, 3), (m.zeros(1, 2, 4), m.zeros(1, 2, 4))),
]


@pytest.mark.parametrize("i", range(len(PROJ_SIZE)))
def test_lstm_proj_size_refuses_what_pytorch_refuses(i):
    """A projection not smaller than the hidden size, on another cell than LSTM, or an initial
    h of the hidden size instead of the projection's."""
    with pytest.raises((ValueError, RuntimeError)) as ours:
        PROJ_SIZE[i](torch)
    real = pytest.importorskip("torch")
    with pytest.raises((ValueError, RuntimeError)) as theirs:
        PROJ_SIZE[i](real)
    assert isinstance(ours.value, ValueError) == isinstance(theirs.value, ValueError)
