"""The example- and tutorial-style programs of example_programs.py: eager against PyTorch's
recorded per-step losses (float64, to 1e-9); compiled against eager, bitwise on the interpret
backend and to 1e-9 on cpu for the two programs without convolutions (the others' cold Numba
compiles cost CI most of a minute each; their traces are what these guard, and both backends
share them), with no eager fallback and no call run eagerly. Recorded by
`python -m tests.fixtures examples`."""

import pytest

from tests.fixtures import program_losses

from .example_programs import PROGRAMS

CPU = ["forward_forward", "graph_attention"]

# traces each compiled step may make: the first call (which creates the optimizer's state),
# then one; graph_attention's epoch number, a positional int, is read per call from its
# second value on (one more); transformer_translator's batches differ in length (one each)
TRACES = {"graph_attention": 3, "transformer_translator": 4}

eager, test_eager_matches_pytorch = program_losses.eager_checks("examples", PROGRAMS)


def _check_stats(made, name):
    for fn in made:
        st = fn.stats()
        assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st
        assert st["traces"] <= TRACES.get(name, 2), st


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_interpret_equals_eager(name, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], "interpret")
    program_losses.assert_same_as_eager(losses, eager[name], "interpret")
    assert sum(fn.stats()["calls"] for fn in made) == len(losses)
    _check_stats(made, name)


@pytest.mark.parametrize("name", CPU)
def test_compiled_cpu_matches_eager(name, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], "cpu")
    program_losses.assert_same_as_eager(losses, eager[name], "cpu")
    _check_stats(made, name)
