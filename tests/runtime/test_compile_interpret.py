"""Issue 3's bar: compiled steps on the interpret backend match eager bit for bit over 20 steps."""
import pytest

from .helpers import run_eager_and_compiled
from .programs import PROGRAMS


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_eager_bitwise(name):
    compiled = run_eager_and_compiled(PROGRAMS[name], steps=20)
    stats = compiled.stats()
    assert stats["calls"] == 20
    # First call, then at most one more trace for state the first call created
    # (.grad buffers, optimizer state); after that the cache must hit.
    assert stats["traces"] <= 2, compiled.events
