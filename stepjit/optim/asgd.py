"""ASGD: SGD with a decaying step size eta and a running average `ax` of the iterates
(PyTorch's single-tensor update, step for step).

PyTorch keeps step, eta and mu as 0-dim tensors of the default float dtype and reads eta and
mu back with `.item()`. Here they stay tensors (float64 arithmetic where PyTorch does Python
float arithmetic on their values), so a compiled step never bakes a step count or a
data-dependent branch into its trace: `mu == 1` (before t0) copies the parameter into ax,
otherwise ax moves toward it by mu, chosen by a `where`.
"""
from __future__ import annotations

from ..defaults import get_default_dtype
from ..ir.types import float32, float64
from ..ops.creation import ones, tensor, zeros, zeros_like
from ..ops.elementwise import maximum, where
from .adaptive import check_non_negative
from ..tensor import Tensor
from .optimizer import Optimizer


def _scalar_dtype():
    """PyTorch's dtype for step, eta and mu: float64 under a float64 default, else float32."""
    return float64 if get_default_dtype() is float64 else float32


def _eta0(lr, dtype, device):
    if isinstance(lr, Tensor):   # (a compiled step's per-call lr)
        return lr.detach().to(dtype).clone()
    return tensor(lr, dtype=dtype, device=device)


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_non_negative(lr=lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, grad, group, state):
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            dtype = _scalar_dtype()
            state["step"] = zeros((), dtype=dtype, device=p.device)
            state["eta"] = _eta0(lr, dtype, p.device)
            state["mu"] = ones((), dtype=dtype, device=p.device)
            state["ax"] = zeros_like(p)
        if group["maximize"]:
            grad = -grad
        step = state["step"].add_(1)
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        eta = state["eta"].to(float64)
        p.mul_(1 - lambd * eta)
        p.add_(grad * -eta)
        mu, ax = state["mu"], state["ax"]
        ax.copy_(where(mu == 1, p, ax + (p - ax) * mu.to(p.dtype)))
        step = step.to(float64)
        state["eta"].copy_(lr / (1 + lambd * lr * step) ** group["alpha"])
        state["mu"].copy_(1 / maximum(step - group["t0"], ones((), dtype=float64)))
