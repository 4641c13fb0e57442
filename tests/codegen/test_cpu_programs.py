"""Issue 5's correctness bar: every program of the earlier issues, compiled on the cpu
backend (fused Numba kernels), matches eager over 20 steps (1e-5 relative in float32)."""
import pytest

from tests.runtime.helpers import run_eager_and_compiled
from tests.runtime.programs import PROGRAMS


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_eager_on_cpu(name):
    compiled = run_eager_and_compiled(PROGRAMS[name], steps=20, backend="cpu", exact=False)
    assert compiled.stats()["traces"] <= 2
