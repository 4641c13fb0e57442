"""The translation step of translation_programs.py: eager against PyTorch's recorded
per-step losses (float64, to 1e-9), compiled against eager, bitwise, traced once after the
call that creates Adam's state, with no eager fallback. Only the interpret backend: the
step's native program takes minutes to build on a cold cache, and what this guards is the
trace (packing, in-place masking through .data, the decoder loop), which both backends
share. Recorded by `python -m tests.fixtures translation`."""

import pytest

from tests.fixtures import program_losses

from .translation_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("translation", PROGRAMS)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_matches_eager_with_one_trace(name, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], "interpret")
    assert losses == eager[name]
    st = made[0].stats()
    assert (st["calls"], st["traces"], st["fallbacks"], st["eager_calls"]) == \
        (len(losses), 2, 0, 0), st
