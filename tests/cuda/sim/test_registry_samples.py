"""Every primitive's first registry sample compiled with backend="cuda" (under Numba's CUDA
simulator where there is no GPU) against CPU eager (tests/programs/registry_samples.py)."""
import pytest

from tests.programs.registry_samples import CASES, IDS, check_compiled


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_compiled_on_cuda_matches_eager(case):
    check_compiled(case, "cuda", device="cuda")
