"""nanoGPT- and d2l-style whole programs (surface_programs.py): eager against PyTorch's
recorded per-step losses (float64, to 1e-9), and compiled against eager: bitwise on the
interpret backend, to 1e-9 on cpu (the d2l ones: the GPT costs ~55 s of cold Numba
compiles on cpu, and tests/runtime/test_compiled_forward.py compiles one already). Recorded by `python -m tests.fixtures surface`."""

import pytest

from tests.fixtures import program_losses

from .surface_programs import PROGRAMS

CPU = ["d2l_softmax_scratch", "d2l_softmax_concise", "d2l_rnn_scratch"]

eager, test_eager_matches_pytorch = program_losses.eager_checks("surface", PROGRAMS, seed=0)


def _compiled(name, backend):
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    return losses, made[0]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_interpret_equals_eager(name, eager):
    losses, fn = _compiled(name, "interpret")
    assert losses == eager[name]
    assert fn.stats()["calls"] == len(losses)


@pytest.mark.parametrize("name", CPU)
def test_compiled_cpu_matches_eager(name, eager):
    losses, _ = _compiled(name, "cpu")
    assert losses == pytest.approx(eager[name], rel=1e-9)
