"""Optional PyTorch oracle: a small MLP trained a few steps with identical initial values."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.nn.functional as F
import stepjit.optim as optim

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)
X = RNG.standard_normal((8, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 8)


def _models():
    ms = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    mt = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    mt.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ms.state_dict().items()})
    return ms, mt


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-2)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.5, amsgrad=True)),
]


@pytest.mark.parametrize("name,kw", OPTIMIZERS)
def test_training_matches_torch(name, kw):
    ms, mt = _models()
    opt_s = getattr(optim, name)(ms.parameters(), **kw)
    opt_t = getattr(torch.optim, name)(mt.parameters(), **kw)
    xs, ys = stepjit.tensor(X), stepjit.tensor(Y)
    xt, yt = torch.tensor(X), torch.tensor(Y)
    for _ in range(5):
        opt_s.zero_grad()
        opt_t.zero_grad()
        ls = F.cross_entropy(ms(xs), ys)
        lt = torch.nn.functional.cross_entropy(mt(xt), yt)
        ls.backward()
        lt.backward()
        opt_s.step()
        opt_t.step()
        np.testing.assert_allclose(ls.item(), lt.item(), rtol=1e-5)
    for (k, a), b in zip(ms.state_dict().items(), mt.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("name,kw", OPTIMIZERS[1:2] + OPTIMIZERS[5:6])
def test_state_dict_layout_matches_torch(name, kw):
    ms, mt = _models()
    opt_s = getattr(optim, name)(ms.parameters(), **kw)
    opt_t = getattr(torch.optim, name)(mt.parameters(), **kw)
    F.cross_entropy(ms(stepjit.tensor(X)), stepjit.tensor(Y)).backward()
    torch.nn.functional.cross_entropy(mt(torch.tensor(X)), torch.tensor(Y)).backward()
    opt_s.step()
    opt_t.step()
    sd_s, sd_t = opt_s.state_dict(), opt_t.state_dict()
    assert sorted(sd_s["state"]) == sorted(sd_t["state"])
    for i in sd_t["state"]:
        assert sorted(sd_s["state"][i]) == sorted(sd_t["state"][i])
        for key, vt in sd_t["state"][i].items():
            np.testing.assert_allclose(sd_s["state"][i][key].numpy(), vt.numpy(), rtol=1e-5,
                                       atol=1e-7)
    assert sd_s["param_groups"][0]["params"] == sd_t["param_groups"][0]["params"]
    shared = set(sd_t["param_groups"][0]) & set(sd_s["param_groups"][0])
    assert {"lr", "params", "weight_decay"} <= shared
