"""benchmarks/instructions.py: the runs it counts work (valgrind itself is not needed here), and
the count is read from cachegrind's summary line."""
import gc

import pytest

from benchmarks import instructions


@pytest.mark.parametrize("variant", ["numpy", "stepjit"])
def test_a_counted_run_steps_the_tutorial(variant):
    try:
        instructions._steps(variant, "4", 2)
        assert not gc.isenabled()   # the counted steps run without the collector
    finally:
        gc.enable()


def test_the_count_is_read_from_cachegrinds_summary(monkeypatch):
    class Done:
        stderr = "==1== \n==1== I   refs:      1,234,567\n"
    monkeypatch.setattr(instructions.subprocess, "run", lambda *a, **k: Done())
    assert instructions._count("numpy", "4", 20) == 1234567
