"""Chi2(df): Gamma(df / 2, 1 / 2), as PyTorch defines it."""
from __future__ import annotations

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (self.df,) = broadcast_all(df)     # (set first: the argument checks read it)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)
