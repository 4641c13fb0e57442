"""One table of optimizer and lr-schedule cases, run the same way on PyTorch (the recorder,
tests/fixtures/record_optim.py) and on stepjit (tests/optim/test_recorded.py).

Each function takes the torch-like module `T` and returns plain Python numbers or NumPy
arrays, so a recording is a JSON/npz file and CI needs no PyTorch.
"""
from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng(11)
X = _RNG.standard_normal((6, 3))
Y = _RNG.standard_normal((6, 2))
W0 = _RNG.standard_normal((3, 2)) * 0.5
B0 = _RNG.standard_normal(2) * 0.1
STEPS = 6


def _params(T):
    w = T.tensor(W0.copy(), dtype=T.float64, requires_grad=True)
    b = T.tensor(B0.copy(), dtype=T.float64, requires_grad=True)
    return w, b


def _loss(T, w, b):
    x, y = T.tensor(X, dtype=T.float64), T.tensor(Y, dtype=T.float64)
    return ((T.tanh(x @ w) + b - y) ** 2).mean() + 0.1 * (w ** 4).sum()


# (name, optimizer class name, keyword arguments, use separate param groups)
OPTIMIZERS = [
    ("sgd", "SGD", dict(lr=0.1), False),
    ("sgd_momentum_wd_dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.1,
                                              weight_decay=0.01), False),
    ("sgd_nesterov_maximize", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True),
     False),
    ("adam", "Adam", dict(lr=0.05), False),
    ("adam_amsgrad_wd", "Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True),
     False),
    ("adam_maximize_groups", "Adam", dict(lr=0.05, maximize=True), True),
    ("adamw", "AdamW", dict(lr=0.05), False),
    ("adamw_amsgrad", "AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True), False),
    ("rmsprop", "RMSprop", dict(lr=0.01), False),
    ("rmsprop_centered_momentum_wd", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, centered=True,
                                                     momentum=0.5, weight_decay=0.1), False),
    ("rmsprop_maximize", "RMSprop", dict(lr=0.01, momentum=0.3, maximize=True), False),
    ("adagrad", "Adagrad", dict(lr=0.1), False),
    ("adagrad_decay_wd_init", "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                              initial_accumulator_value=0.2, eps=1e-8), False),
    ("adadelta", "Adadelta", dict(), False),
    ("adadelta_rho_wd_maximize", "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1,
                                                  maximize=True), False),
    ("adamax", "Adamax", dict(lr=0.05), False),
    ("adamax_wd", "Adamax", dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1), False),
    ("nadam", "NAdam", dict(lr=0.05), False),
    ("nadam_decay_wd", "NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1), False),
    ("nadam_decoupled", "NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
     False),
    ("rprop", "Rprop", dict(lr=0.05), False),
    ("rprop_etas_sizes_maximize", "Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.01, 0.2),
                                                maximize=True), True),
    ("radam", "RAdam", dict(lr=0.05), False),
    ("radam_decoupled", "RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
     False),
    ("asgd", "ASGD", dict(lr=0.05), False),
    ("asgd_t0_lambd_wd_maximize", "ASGD", dict(lr=0.05, lambd=0.05, alpha=0.6, t0=2,
                                               weight_decay=0.1, maximize=True), False),
    ("asgd_groups", "ASGD", dict(lr=0.1, t0=3), True),
    ("adafactor", "Adafactor", dict(lr=0.05), False),
    ("adafactor_decay_eps_d_wd_maximize", "Adafactor", dict(
        lr=0.05, beta2_decay=-0.5, eps=(1e-8, 1e-2), d=1.5, weight_decay=0.1, maximize=True),
     False),
    ("lbfgs", "LBFGS", dict(lr=1, max_iter=4, history_size=3), False),
    ("lbfgs_strong_wolfe", "LBFGS", dict(lr=1, max_iter=5, line_search_fn="strong_wolfe"), False),
]


def run_optimizer(T, cls, kw, groups, steps=STEPS):
    """Losses and parameters after each step of a float64 problem, as NumPy arrays."""
    w, b = _params(T)
    params = [{"params": [w]}, {"params": [b], "lr": kw.get("lr", 1.0) * 0.5}] if groups \
        else [w, b]
    opt = getattr(T.optim, cls)(params, **kw)

    def closure():
        opt.zero_grad()
        loss = _loss(T, w, b)
        loss.backward()
        return loss
    losses, ws, bs = [], [], []
    for _ in range(steps):
        loss = opt.step(closure)
        losses.append(float(loss.detach()))
        ws.append(w.detach().numpy().copy())
        bs.append(b.detach().numpy().copy())
    return {"loss": np.array(losses), "w": np.stack(ws), "b": np.stack(bs)}


# -- lr schedules ------------------------------------------------------------------------------
def _sgd(T, groups=1):
    ps = [T.zeros(1, requires_grad=True) for _ in range(groups)]
    return T.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(ps)],
                       lr=0.1, momentum=0.9)


def _adam(T):
    return T.optim.Adam([T.zeros(1, requires_grad=True)], lr=0.01)


class Halve:
    """A callable object: its __dict__ goes into LambdaLR's state_dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, epoch):
        return self.base ** epoch


# name -> (optimizer: "sgd", "sgd2" (two groups) or "adam"; make(S, optimizer); steps), where S
# is the lr_scheduler module under test
SCHEDULES = {
    "step": ("sgd2", lambda S, o: S.StepLR(o, step_size=3, gamma=0.5), 10),
    "multistep": ("sgd", lambda S, o: S.MultiStepLR(o, [2, 5, 5], 0.1), 8),
    "exponential": ("sgd", lambda S, o: S.ExponentialLR(o, 0.9), 8),
    "cosine": ("sgd2", lambda S, o: S.CosineAnnealingLR(o, 5, 0.01), 16),
    "lambda": ("sgd2", lambda S, o: S.LambdaLR(o, [lambda e: 0.95 ** e, Halve()]), 6),
    "multiplicative": ("sgd", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9), 6),
    "linear": ("sgd", lambda S, o: S.LinearLR(o, 0.25, 1.0, 4), 8),
    "constant": ("sgd", lambda S, o: S.ConstantLR(o, 0.5, 3), 6),
    "polynomial": ("sgd", lambda S, o: S.PolynomialLR(o, 6, 2.0), 9),
    "onecycle_sgd": ("sgd", lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=12), 12),
    "onecycle_adam_three_phase_linear": ("adam", lambda S, o: S.OneCycleLR(
        o, max_lr=[0.5], epochs=3, steps_per_epoch=4, pct_start=0.25, three_phase=True,
        anneal_strategy="linear"), 12),
    "warm_restarts": ("sgd", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001), 16),
    "sequential": ("sgd", lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, 1.0, 3), S.ExponentialLR(o, 0.8)], milestones=[3]), 8),
    "chained": ("sgd", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, 2), S.ExponentialLR(o, 0.9)]), 6),
    "cyclic_triangular2_sgd2": ("sgd2", lambda S, o: S.CyclicLR(
        o, [0.01, 0.02], 0.1, step_size_up=2, step_size_down=3, mode="triangular2"), 14),
    "cyclic_exp_range_adam": ("adam", lambda S, o: S.CyclicLR(
        o, 0.001, 0.01, step_size_up=3, mode="exp_range", gamma=0.9), 10),
    "cyclic_scale_fn_no_momentum": ("sgd", lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=Halve(), scale_mode="iterations",
        cycle_momentum=False), 8),
    "plateau_min_rel_cooldown": ("sgd2", lambda S, o: S.ReduceLROnPlateau(
        o, patience=1, factor=0.5, cooldown=1, min_lr=[0.0, 0.06]), 10),
    "plateau_max_abs": ("sgd", lambda S, o: S.ReduceLROnPlateau(
        o, mode="max", threshold=0.1, threshold_mode="abs", patience=0), 10),
}
METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85]
_OPTIMIZERS = {"sgd": lambda T: _sgd(T), "sgd2": lambda T: _sgd(T, 2), "adam": _adam}


def make_schedule(T, name):
    kind, make, steps = SCHEDULES[name]
    opt = _OPTIMIZERS[kind](T)
    return opt, make(T.optim.lr_scheduler, opt), steps


def step_schedule(T, opt, sched, i):
    opt.step()
    if isinstance(sched, T.optim.lr_scheduler.ReduceLROnPlateau):
        sched.step(METRICS[i])
    else:
        sched.step()


def run_schedule(T, name):
    """get_last_lr() (and momentum/beta1 of group 0) after construction and after each step."""
    opt, sched, steps = make_schedule(T, name)
    record = [_snapshot(opt, sched)]
    for i in range(steps):
        step_schedule(T, opt, sched, i)
        record.append(_snapshot(opt, sched))
    return record


def _snapshot(opt, sched):
    group = opt.param_groups[0]
    momentum = group["betas"][0] if "betas" in group else group.get("momentum")
    return [[float(lr) for lr in sched.get_last_lr()], momentum]
