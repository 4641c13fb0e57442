"""Adamax, NAdam and RAdam: Adam's moments with an infinity norm, Nesterov momentum, or a
rectified variance (PyTorch's single-tensor updates).

As in adam.py, everything that depends on the step count is computed from the 0-dim
step tensor in float64 and enters the update as a 0-dim tensor; RAdam's switch between
the rectified and the plain update is a `where` on that tensor, not a Python branch, so
a compiled step keeps one trace for every step.
"""
from __future__ import annotations

from ..ir.types import float32, float64
from ..ops.creation import ones, zeros, zeros_like
from ..ops.elementwise import where
from .adam import _check
from .optimizer import Optimizer


def _moments(p, state):
    if not state:
        state["step"] = zeros((), dtype=float32)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)


def _decay(p, grad, group):
    """Weight decay: added to the gradient, or (decoupled) scaling the parameter."""
    wd = group["weight_decay"]
    if wd == 0:
        return grad
    if group.get("decoupled_weight_decay"):
        p.mul_(1 - group["lr"] * wd)
        return grad
    return grad.add(p, alpha=wd)


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = zeros((), dtype=float32)
            state["exp_avg"] = zeros_like(p)
            state["exp_inf"] = zeros_like(p)
        if group["maximize"]:
            grad = -grad
        beta1, beta2 = group["betas"]
        step = state["step"].add_(1)
        grad = _decay(p, grad, group)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.add_((grad - exp_avg) * (1 - beta1))
        exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs() + group["eps"]))
        clr = group["lr"] / (1 - beta1 ** step.to(float64))
        p.add_(exp_avg / exp_inf * -clr)


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, p, grad, group, state):
        if not state:
            _moments(p, state)
            state["mu_product"] = ones((), dtype=float32)
        if group["maximize"]:
            grad = -grad
        lr, (beta1, beta2), md = group["lr"], group["betas"], group["momentum_decay"]
        step = state["step"].add_(1).to(float64)
        bias_correction2 = 1 - beta2 ** step
        grad = _decay(p, grad, group)
        mu = (1.0 - 0.5 * 0.96 ** (step * md)) * beta1
        mu_next = (1.0 - 0.5 * 0.96 ** ((step + 1) * md)) * beta1
        # PyTorch keeps mu_product in float32 and multiplies by mu as a float32 scalar.
        mu_product = state["mu_product"].mul_(mu.to(float32)).to(float64)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.add_((grad - exp_avg) * (1 - beta1))
        exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
        denom = (exp_avg_sq / bias_correction2).sqrt() + group["eps"]
        p.add_(grad / denom * (-lr * (1.0 - mu) / (1.0 - mu_product)))
        p.add_(exp_avg / denom * (-lr * mu_next / (1.0 - mu_product * mu_next)))


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, p, grad, group, state):
        _moments(p, state)
        if group["maximize"]:
            grad = -grad
        lr, (beta1, beta2) = group["lr"], group["betas"]
        step = state["step"].add_(1).to(float64)
        grad = _decay(p, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.add_((grad - exp_avg) * (1 - beta1))
        exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
        # ((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)) ** 0.5, taken only
        # where rho_t > 5 (elsewhere its argument may be negative: nan, not selected).
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)).clamp(min=0) ** 0.5
        adaptive = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + group["eps"])
        scale = where(rho_t > 5.0, adaptive * rect, 1.0)
        p.add_(corrected * lr * scale * -1.0)
