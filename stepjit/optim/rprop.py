"""Rprop: each parameter element has its own step size, grown by etaplus while its gradient
keeps its sign and shrunk by etaminus when the sign flips (that step then skipped), clamped
to step_sizes; the update is the gradient's sign times the step size (PyTorch's
single-tensor update). The sign cases are `where`s on tensors, so a compiled step keeps one
trace for every step.
"""
from __future__ import annotations

from ..ir.types import float32
from ..ops.creation import full_like, zeros, zeros_like
from ..ops.elementwise import where
from .optimizer import Optimizer


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = zeros((), dtype=float32)
            state["prev"] = zeros_like(p)
            state["step_size"] = zeros_like(p) + group["lr"]   # (lr: traced as a per-call input)
        if group["maximize"]:
            grad = -grad
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        state["step"].add_(1)
        agree = grad * state["prev"]
        one = full_like(grad, 1.0)               # (the factors in the gradient's dtype)
        factor = where(agree > 0, one * etaplus, where(agree < 0, one * etaminus, one))
        step_size = state["step_size"]
        step_size.copy_((step_size * factor).clamp(low, high))
        grad = where(agree < 0, 0.0, grad)        # a flipped sign: no step, forget the gradient
        p.add_(grad.sign() * step_size * -1)
        state["prev"].copy_(grad)
