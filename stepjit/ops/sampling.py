"""`poisson`: counts drawn from stepjit's generator by inverting the Poisson CDF.

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
