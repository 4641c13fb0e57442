"""The new layers inside compiled training steps, against the same steps run eagerly: three
small models (a CNN with BatchNorm and pooling, an embedding + LSTM character model, an
attention block with LayerNorm and GELU), three SGD steps each, float64.

The CNN runs on the cpu backend (Numba kernels; BatchNorm's running statistics written
back). The other two run on the interpret backend: the same trace, autodiff, optimization
passes and write-back, without compiling their ~40 kernels each (over a minute on CI's two
cores, for primitives whose kernels the registry tests already compile)."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(36, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(x.flatten(1))


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(7, 4, padding_idx=0)
        self.lstm = nn.LSTM(4, 5, batch_first=True)
        self.head = nn.Linear(5, 7)

    def forward(self, idx):
        out, _ = self.lstm(self.emb(idx))
        return self.head(out)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(approximate="tanh"), nn.Linear(16, 8))

    def forward(self, x):
        h = self.ln(x)
        a, _ = self.attn(h, h, h, need_weights=False)
        x = x + a
        q = x.unsqueeze(1)
        x = x + F.scaled_dot_product_attention(q, q, q, is_causal=True).squeeze(1)
        return self.mlp(x).mean(1)


class ProjectedLSTMAttention(nn.Module):
    """LSTM with a projection, then attention with a learned extra key/value and a zero one."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, proj_size=2, batch_first=True)
        self.attn = nn.MultiheadAttention(2, 1, add_bias_kv=True, add_zero_attn=True,
                                          batch_first=True)

    def forward(self, x):
        h, _ = self.lstm(x)
        a, _ = self.attn(h, h, h)
        return a.mean(1)


def _setup(name):
    torch.manual_seed(3)
    rng = np.random.default_rng(4)
    if name == "cnn":
        model = CNN().double()
        x = torch.from_numpy(rng.standard_normal((4, 2, 6, 6)))
        y = torch.tensor(rng.integers(0, 3, 4))
        loss_fn = lambda out, y: F.cross_entropy(out, y)   # noqa: E731
    elif name == "lstm":
        model = CharLSTM().double()
        x = torch.tensor(rng.integers(0, 7, (2, 5)))
        y = torch.tensor(rng.integers(0, 7, (2, 5)))
        loss_fn = lambda out, y: F.cross_entropy(out.reshape(-1, 7), y.reshape(-1))  # noqa: E731
    elif name == "projected":
        model = ProjectedLSTMAttention().double()
        x = torch.from_numpy(rng.standard_normal((2, 4, 3)))
        y = torch.from_numpy(rng.standard_normal((2, 2)))
        loss_fn = F.mse_loss
    else:
        model = Block().double()
        x = torch.from_numpy(rng.standard_normal((2, 3, 8)))
        y = torch.from_numpy(rng.standard_normal((2, 8)))
        loss_fn = F.smooth_l1_loss
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, step, x, y


@pytest.mark.parametrize("name,backend", [("cnn", "cpu"), ("lstm", "interpret"),
                                          ("attention", "interpret"),
                                          ("projected", "interpret")])
def test_compiled_training_matches_eager(name, backend):
    model_e, step_e, x, y = _setup(name)
    eager = [step_e(x, y).item() for _ in range(3)]
    model_c, step_c, x, y = _setup(name)
    compiled = torch.compile(step_c, backend=backend)
    got = [compiled(x, y).item() for _ in range(3)]
    np.testing.assert_allclose(got, eager, rtol=1e-10)
    for (n, a), b in zip(model_e.state_dict().items(), model_c.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and stats["traces"] >= 1
