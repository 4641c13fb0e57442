"""The GPU benchmark cases (benchmarks/cases/cuda.py) at their small sizes: each stepjit variant
runs on the device (the simulator in CI) and computes the loss that PyTorch computes from the same
initial values (PyTorch on the CPU where its build has no CUDA; skipped without PyTorch). This is
what keeps benchmarks/gpu_check.sh from spending a GPU's time on a case that cannot run."""
import math

import pytest

from benchmarks.cases import cuda as gpu_cases

# The two cheapest under the simulator; the others share their code paths (gpu_check.sh --small
# runs all four).
CASES = {c.name: c for c in gpu_cases.build(small=True)}


def _first_loss(case, variant):
    v = next(v for v in case.variants if v.name == variant)
    reason = v.unavailable()
    if reason:
        pytest.skip(reason)
    return float(v.setup()().item())


@pytest.mark.parametrize("name", ["cuda_two_layer", "cuda_makemore_mlp"])
def test_small_case_runs_on_the_device_and_matches_pytorch(name):
    case = CASES[name]
    ours = _first_loss(case, "stepjit-cuda")
    assert math.isfinite(ours) and ours > 0
    pytest.importorskip("torch")
    theirs = _first_loss(case, "torch-cuda-eager")
    assert math.isclose(ours, theirs, rel_tol=case.rtol), (ours, theirs)
