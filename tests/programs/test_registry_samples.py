"""Every registry sample compiled with backend="cpu" against eager (registry_samples.py)."""
import pytest

from tests.programs.registry_samples import CASES, IDS, check_compiled


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_compiled_on_cpu_matches_eager(case):
    check_compiled(case, "cpu")
