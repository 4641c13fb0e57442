"""The global random generator behind manual_seed, rand, randn and dropout.

NumPy's Philox, a counter-based generator: the same seed gives the same stream
on every platform.
"""
from __future__ import annotations

import numpy as np


class _Generator:
    def __init__(self, seed=0):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self.seed = int(seed)
        self.np = np.random.Generator(np.random.Philox(self.seed))
        return self

    def initial_seed(self):
        return self.seed


default_generator = _Generator(np.random.SeedSequence().entropy % (2 ** 63))


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    s = np.random.SeedSequence().entropy % (2 ** 63)
    default_generator.manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()
