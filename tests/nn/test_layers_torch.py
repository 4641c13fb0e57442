"""Layers, nn.functional and losses against PyTorch's recorded values and gradients (inputs,
parameters, buffers), finite differences, and a live PyTorch where installed."""
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures import checks, oracle
from tests.nn.cases import CASES

TABLE = oracle.load(Path(__file__).parents[1] / "fixtures" / "nn" / "torch_nn.npz")
IDS = [c.name for c in CASES]
FD = [c for c in CASES if c.grad and all(np.isfinite(a).all() for a in c.inputs
                                          if isinstance(a, np.ndarray) and a.dtype.kind == "f")]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_recorded_pytorch(case):
    checks.against_recording(case, TABLE)


@pytest.mark.parametrize("case", FD, ids=[c.name for c in FD])
def test_gradients_match_finite_differences(case):
    checks.against_finite_differences(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_live_pytorch(case):
    torch = pytest.importorskip("torch")
    checks.against_torch(case, torch)


def test_every_recorded_case_is_in_the_table():
    assert set(TABLE) == {c.name for c in CASES}
