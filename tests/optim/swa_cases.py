"""optim.swa_utils and ASGD's averaged iterate, run the same way on PyTorch
(tests/fixtures/record_swa.py) and on stepjit (tests/optim/test_swa_utils.py).

Each case takes the torch-like module `T` and a `wrap` for the training step (identity or
stepjit.compile) and returns NumPy arrays; weights and data come from NumPy (float64).
"""
from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng(21)
X = _RNG.standard_normal((8, 3))
Y = _RNG.standard_normal((8, 2))
W1 = _RNG.standard_normal((4, 3)) * 0.5
W2 = _RNG.standard_normal((2, 4)) * 0.5
STEPS = 6


def _model(T, bn=False):
    layers = [T.nn.Linear(3, 4)] + ([T.nn.BatchNorm1d(4)] if bn else []) + \
        [T.nn.Tanh(), T.nn.Linear(4, 2)]
    m = T.nn.Sequential(*layers).double()
    with T.no_grad():
        m[0].weight.copy_(T.tensor(W1))
        m[0].bias.zero_()
        m[-1].weight.copy_(T.tensor(W2))
        m[-1].bias.fill_(0.1)
    return m


def _state(m, prefix):
    return {f"{prefix}/{k}": v.detach().numpy().copy() for k, v in m.state_dict().items()}


def _train(T, model, opt, wrap, after_step, steps=STEPS):
    x, y = T.tensor(X), T.tensor(Y)

    def step():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    fn = wrap(step)
    losses = []
    for _ in range(steps):
        losses.append(fn().item())
        after_step()
    return np.array(losses)


def swa_default(T, wrap):
    """SWA of a BatchNorm model from step 3 with SWALR (cosine), then update_bn."""
    swa_utils = T.optim.swa_utils
    model = _model(T, bn=True)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa_model = swa_utils.AveragedModel(model)
    sched = swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
    count, lrs = [0], []

    def after():
        count[0] += 1
        if count[0] >= 3:
            swa_model.update_parameters(model)
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    out = {"losses": _train(T, model, opt, wrap, after), "lrs": np.array(lrs),
           "n_averaged": swa_model.n_averaged.numpy().copy()}
    out.update(_state(swa_model, "swa"))
    loader = [(T.tensor(X[:4]), 0), (T.tensor(X[4:]), 1)]
    swa_utils.update_bn(loader, swa_model)
    out.update(_state(swa_model, "bn"))
    out["training"] = np.array(swa_model.training)
    return out


def ema_multi(T, wrap):
    """EMA through get_ema_multi_avg_fn, with buffers averaged too (use_buffers=True)."""
    swa_utils = T.optim.swa_utils
    model = _model(T, bn=True)
    opt = T.optim.Adam(model.parameters(), lr=0.05)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.8),
                                  use_buffers=True)
    out = {"losses": _train(T, model, opt, wrap, lambda: ema.update_parameters(model))}
    out.update(_state(ema, "ema"))
    return out


def ema_avg_fn(T, wrap):
    swa_utils = T.optim.swa_utils
    model = _model(T)
    opt = T.optim.SGD(model.parameters(), lr=0.1)
    ema = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.7))
    out = {"losses": _train(T, model, opt, wrap, lambda: ema.update_parameters(model))}
    out.update(_state(ema, "ema"))
    out["y"] = ema(T.tensor(X)).detach().numpy()
    return out


def swalr_linear(T, wrap):
    """SWALR (linear, per-group swa_lr) after a StepLR, stepped past its annealing, and resumed
    from its state_dict."""
    w = T.zeros(2, requires_grad=True, dtype=T.float64)
    b = T.zeros(2, requires_grad=True, dtype=T.float64)
    opt = T.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.2)
    sched = T.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=4,
                                    anneal_strategy="linear")
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    again = T.optim.swa_utils.SWALR(opt, swa_lr=0.3, anneal_epochs=0)
    again.load_state_dict(sched.state_dict())
    again.step()
    lrs.append([g["lr"] for g in opt.param_groups])
    return {"lrs": np.array(lrs)}


def asgd_state(T, wrap):
    """ASGD's averaged iterate `ax`, eta and mu after t0 has passed."""
    model = _model(T)
    opt = T.optim.ASGD(model.parameters(), lr=0.05, lambd=0.01, t0=2, weight_decay=0.01)
    out = {"losses": _train(T, model, opt, wrap, lambda: None)}
    state = opt.state_dict()["state"]
    for i, s in state.items():
        for k in ("ax", "eta", "mu", "step"):
            out[f"{i}/{k}"] = s[k].numpy().copy()
    return out


CASES = [swa_default, ema_multi, ema_avg_fn, swalr_linear, asgd_state]
