"""HalfCauchy(scale): |x| for x ~ Cauchy(0, scale); log_prob is the Cauchy's plus log 2 on
x >= 0 (-inf below), as PyTorch's (folded.py); its mean and variance are infinite."""
from __future__ import annotations

import math

from ..ops.creation import full_like
from .cauchy import Cauchy
from .folded import FoldedAtZero


class HalfCauchy(FoldedAtZero):
    base = Cauchy

    @property
    def mean(self):
        return full_like(self.scale, math.inf)

    @property
    def variance(self):
        return full_like(self.scale, math.inf)
