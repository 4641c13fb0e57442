"""set_num_threads / get_num_threads: the value set is reported, Numba's pool follows it up
to its size, and bad values are refused as PyTorch refuses them."""
import pytest

import stepjit
from stepjit import threads


@pytest.fixture(autouse=True)
def restore():
    import numba
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)
    threads._REQUESTED = None


def test_set_num_threads_limits_numbas_pool_and_reports_the_value():
    import numba
    stepjit.set_num_threads(1)
    assert stepjit.get_num_threads() == 1 and numba.get_num_threads() == 1
    stepjit.set_num_threads(10_000)       # above the pool: remembered, the pool uses all it has
    assert stepjit.get_num_threads() == 10_000
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_non_positive_or_non_integer_counts_are_refused(bad):
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        stepjit.set_num_threads(bad)


def test_interop_threads_accept_a_count():
    stepjit.set_num_interop_threads(2)
    assert stepjit.get_num_interop_threads() >= 1
