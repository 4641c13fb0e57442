"""RMSprop, Adagrad and Adadelta: per-coordinate step sizes from running squared gradients.

Each follows PyTorch's single-tensor update, written with stepjit in-place tensor
ops (optimizer.py's notes). Step counts are 0-dim tensors, and what depends on
them (Adagrad's lr decay) is tensor arithmetic in float64, so a compiled step
never bakes the count in.
"""
from __future__ import annotations

from ..ir.types import float32, float64
from ..ops.creation import full_like, zeros, zeros_like
from .optimizer import Optimizer


def check_non_negative(**values):
    """PyTorch's constructor checks: 'Invalid <what> value: <v>' for a negative hyperparameter."""
    names = {"lr": "learning rate", "eps": "epsilon value"}
    for key, v in values.items():
        if not 0.0 <= v:
            what = names.get(key, f"{key} value")
            raise ValueError(f"Invalid {what}: {v}")


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                           alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = zeros((), dtype=float32)
            state["square_avg"] = zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        if group["maximize"]:
            grad = -grad
        alpha, wd = group["alpha"], group["weight_decay"]
        state["step"].add_(1)
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg = state["square_avg"].mul_(alpha).add_(grad * grad * (1 - alpha))
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.add_((grad - grad_avg) * (1 - alpha))
            avg = (square_avg - grad_avg * grad_avg).sqrt()
        else:
            avg = square_avg.sqrt()
        avg = avg + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"].mul_(group["momentum"]).add_(grad / avg)
            p.add_(buf * -group["lr"])
        else:
            p.add_(grad / avg * -group["lr"])


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        # PyTorch makes Adagrad's state at construction, not on the first step.
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = zeros((), dtype=float32)
                self.state[p]["sum"] = full_like(p, group["initial_accumulator_value"])

    def _update(self, p, grad, group, state):
        if group["maximize"]:
            grad = -grad
        step = state["step"].add_(1)
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        clr = group["lr"] / ((step.to(float64) - 1) * group["lr_decay"] + 1)
        total = state["sum"].add_(grad * grad)
        p.add_(grad / (total.sqrt() + group["eps"]) * -clr)


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative(eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = zeros((), dtype=float32)
            state["square_avg"] = zeros_like(p)
            state["acc_delta"] = zeros_like(p)
        rho, eps = group["rho"], group["eps"]
        state["step"].add_(1)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg = state["square_avg"].mul_(rho).add_(grad * grad * (1 - rho))
        acc_delta = state["acc_delta"]
        delta = (acc_delta + eps).sqrt() / (square_avg + eps).sqrt() * grad
        acc_delta.mul_(rho).add_(delta * delta * (1 - rho))
        p.add_(delta * -group["lr"])
