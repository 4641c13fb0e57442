"""Adafactor: Adam-like steps whose second moment for a matrix is kept as a row and a column
average (a rank-1 factorization), a relative step size (the parameter's RMS times
min(lr, 1/sqrt(step))) and update clipping by RMS (PyTorch's single-tensor update, step for
step).

PyTorch reads the step count and two norms back with `.item()` and does the scalar work in
Python floats; here those stay 0-dim tensors in float64 (the same arithmetic), so a compiled
step never bakes a step count or a norm into its trace and one trace serves every step.
"""
from __future__ import annotations

import math

from ..dtype_info import finfo
from ..ir.types import float64
from ..ops.creation import zeros, zeros_like
from ..ops.elementwise import maximum, minimum
from ..tensor import Tensor
from .asgd import _scalar_dtype
from .optimizer import Optimizer


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = zeros((), dtype=_scalar_dtype())
            if grad.ndim > 1:
                state["row_var"] = zeros(tuple(grad.shape[:-1]) + (1,), dtype=grad.dtype,
                                         device=grad.device)
                state["col_var"] = zeros(tuple(grad.shape[:-2]) + (1, grad.shape[-1]),
                                         dtype=grad.dtype, device=grad.device)
            else:
                state["variance"] = zeros_like(grad)
        if group["maximize"]:
            grad = -grad
        lr, eps1, eps2 = group["lr"], group["eps"][0], group["eps"][1]
        if eps1 is None:
            eps1 = finfo(p.dtype).eps
        step = state["step"].add_(1).to(float64)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = minimum(1 / step.sqrt(), lr) if isinstance(lr, Tensor) else \
            (1 / step.sqrt()).clamp(max=lr)
        alpha = maximum(p.norm(2).to(float64) / math.sqrt(p.numel()),
                        _const(eps2)) * rho
        if group["weight_decay"] != 0:
            p.mul_(1 - lr * group["weight_decay"])
        if grad.ndim > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square() / grad.shape[-1],
                          one_minus_beta2)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square() / grad.shape[-2],
                          one_minus_beta2)
            estimate = (row_var @ col_var) / row_var.mean(dim=-2, keepdim=True).clamp(min=eps1)
        else:
            variance = state["variance"]
            variance.lerp_(grad * grad, one_minus_beta2)
            estimate = variance.clone()
        update = estimate.clamp(min=eps1 * eps1).rsqrt() * grad
        denom = maximum(update.norm(2).to(float64) / (math.sqrt(update.numel()) * group["d"]),
                        _const(1.0))
        p.add_(update * (-alpha / denom))


def _const(value):
    return zeros((), dtype=float64) + value
