"""Programs in the style of the held-out programs (heldout_programs.py): eager against
PyTorch's recorded per-step losses (float64, to 1e-9), compiled against eager (bitwise on the
interpret backend, to 1e-9 on cpu), each compiled step traced once with no eager fallback.
Recorded by `python -m tests.fixtures heldout`."""
import math

import pytest

import stepjit
from tests.fixtures import program_losses

from .heldout_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("heldout", PROGRAMS)


def _compiled(name, backend):
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    return losses, made[0]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_matches_eager_with_one_trace(name, backend, eager):
    losses, fn = _compiled(name, backend)
    if backend == "interpret":
        assert losses == eager[name]
    else:
        assert losses == pytest.approx(eager[name], rel=1e-9)
    st = fn.stats()
    # the first call creates AdamW's state (a trace for that call alone), then one trace
    assert (st["calls"], st["traces"], st["fallbacks"]) == (len(losses), 2, 0), st


def test_constants_are_pythons():
    assert (stepjit.inf, stepjit.pi, stepjit.e) == (math.inf, math.pi, math.e)
    assert math.isnan(stepjit.nan) and stepjit.newaxis is None
