"""An int read per call (a changing positional argument, a loop counter global) is traced as
a SymbolicInt; when it reaches code that needs the number itself (NumPy's C API rejects a
stand-in with TypeError), the function traces such values as guarded constants from then on:
every call still equals eager, and no TypeError reaches the user."""
import numpy as np
import pytest

import stepjit as torch

COUNTER = 0


def _noise(n, seed):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(n))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_int_argument_handed_to_numpy(backend):
    w = torch.ones(4, dtype=torch.float64, requires_grad=True)

    def step(x, seed):
        loss = ((x + _noise(4, seed)) * w).sum()
        return loss.detach()

    compiled = torch.compile(step, backend=backend)
    x = torch.arange(4, dtype=torch.float64)
    for seed in range(6):
        np.testing.assert_array_equal(compiled(x, seed).numpy(), step(x, seed).numpy())


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_loop_counter_global_handed_to_numpy(backend):
    global COUNTER

    def step(x):
        return (x * _noise(3, COUNTER)).sum()

    compiled = torch.compile(step, backend=backend)
    x = torch.ones(3, dtype=torch.float64)
    for COUNTER in range(6):
        np.testing.assert_array_equal(compiled(x).numpy(), step(x).numpy())
