"""`poisson` and `binomial`: counts drawn from stepjit's generator by inverting the Poisson CDF.

One uniform per element (so the draw advances the generator by the element count, eagerly and
compiled alike), then the count is the number of CDF terms below it: terms p_k are built in
log space (log p_k = log p_(k-1) + log(rate) - log k, so a large rate does not underflow
p_0 = e^-rate) and summed in float64 up to rate + 12 sqrt(rate) + 20, past which the
remaining mass is below float64's resolution. The number of terms is read from the largest
rate: in a compiled step that value is a guarded decision (new rates, a new trace). Rates above 10^4 would make
that table too large and are refused. No gradient flows, as in PyTorch.
"""
from __future__ import annotations

import math

import numpy as np

from ..dispatch import apply, concrete
from ..errors import ShapeError, op_error
from ..ir import primitives as P
from ..ir.types import FLOAT, float64
from .creation import arange, rand
from .creation import tensor

MAX_RATE = 1e4


def poisson(input, generator=None):
    if input.dtype.category != FLOAT:
        raise op_error(ShapeError(f"poisson: expected a floating point rate tensor, got "
                                  f"{input.dtype.name}"), "poisson")
    rates = input.detach()
    top = float(np.asarray(concrete(rates.amax(), "value"))) if rates.numel() else 0.0
    low = float(np.asarray(concrete(rates.amin(), "value"))) if rates.numel() else 0.0
    if low < 0 or not math.isfinite(top) or top > MAX_RATE:
        raise op_error(ShapeError(f"poisson: rates must be finite, non-negative and at most "
                                  f"{MAX_RATE:g}; got values in [{low:g}, {top:g}] "
                                  f"(shape {list(input.shape)})"), "poisson")
    terms = int(top + 12 * math.sqrt(top) + 20)
    u = rand(tuple(input.shape), dtype=float64, generator=generator)
    lam = apply(P.cast, rates, dtype=float64).unsqueeze(-1)
    k = arange(terms, dtype=float64)
    log_k_factorial = np.cumsum(np.log(np.maximum(np.arange(terms, dtype=np.float64), 1.0)))
    safe = apply(P.where, apply(P.eq, lam, 0), 1.0, lam)
    log_p = apply(P.sub, apply(P.sub, apply(P.mul, k, safe.log()), lam), tensor(log_k_factorial))
    p = apply(P.where, apply(P.eq, lam, 0), apply(P.cast, apply(P.eq, k, 0), dtype=float64),
              log_p.exp())
    below = apply(P.lt, p.cumsum(-1), u.unsqueeze(-1))
    return apply(P.cast, below.sum(-1), dtype=input.dtype)


def _concrete_range(t, op):
    if not t.numel():
        return 0.0, 0.0
    return (float(np.asarray(concrete(t.amin(), "value"))),
            float(np.asarray(concrete(t.amax(), "value"))))


def binomial(count, prob, generator=None):
    if count.dtype.category != FLOAT or prob.dtype.category != FLOAT:
        raise op_error(ShapeError(f"binomial: expected floating point count and prob tensors, "
                                  f"got {count.dtype.name} and {prob.dtype.name}"), "binomial")
    if tuple(count.shape) != tuple(prob.shape):
        raise op_error(ShapeError(f"binomial: count of shape {list(count.shape)} and prob of "
                                  f"shape {list(prob.shape)} must have the same shape"),
                       "binomial")
    n, p = count.detach(), prob.detach()
    low, top = _concrete_range(n, "binomial")
    p_low, p_top = _concrete_range(p, "binomial")
    if low < 0 or not math.isfinite(top) or top > MAX_RATE or p_low < 0 or p_top > 1:
        raise op_error(ShapeError(
            f"binomial: counts must be finite, non-negative and at most {MAX_RATE:g} and probs "
            f"in [0, 1]; got counts in [{low:g}, {top:g}] and probs in [{p_low:g}, {p_top:g}] "
            f"(shape {list(count.shape)})"), "binomial")
    terms = int(top) + 1
    u = rand(tuple(count.shape), dtype=float64, generator=generator)
    n64 = apply(P.cast, n, dtype=float64).unsqueeze(-1)
    p64 = apply(P.cast, p, dtype=float64).unsqueeze(-1)
    k = arange(terms, dtype=float64)
    log_k_factorial = tensor(np.cumsum(np.log(np.maximum(np.arange(terms, dtype=np.float64),
                                                          1.0))))
    inside = apply(P.le, k, n64)
    n_minus_k = apply(P.where, inside, apply(P.sub, n64, k), 0.0)
    log_choose = apply(P.sub, apply(P.sub, apply(P.add, n64, 1.0).lgamma(), log_k_factorial),
                       apply(P.add, n_minus_k, 1.0).lgamma())
    p_safe = p64.clamp(min=1e-300, max=1 - 1e-16)
    log_p = apply(P.add, apply(P.add, log_choose, apply(P.mul, k, p_safe.log())),
                  apply(P.mul, n_minus_k, (-p_safe).log1p()))
    terms_p = apply(P.where, inside, log_p.exp(), 0.0)
    below = apply(P.lt, terms_p.cumsum(-1), u.unsqueeze(-1))
    draws = apply(P.minimum, apply(P.cast, below.sum(-1), dtype=float64), n64.squeeze(-1))
    draws = apply(P.where, apply(P.eq, p64.squeeze(-1), 0.0), 0.0, draws)
    draws = apply(P.where, apply(P.eq, p64.squeeze(-1), 1.0), n64.squeeze(-1), draws)
    return apply(P.cast, draws, dtype=count.dtype)
