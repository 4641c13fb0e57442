"""HalfNormal(scale): |x| for x ~ Normal(0, scale); log_prob is the Normal's plus log 2 on
x >= 0 (-inf below), as PyTorch's (folded.py)."""
from __future__ import annotations

import math

from .folded import FoldedAtZero
from .normal import Normal


class HalfNormal(FoldedAtZero):
    base = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
