"""The pruning / parametrization / SWA / CTC programs (nn_utils_programs.py): eager against
PyTorch's recorded values (tests/fixtures/nn_utils/programs.json), compiled against eager."""
import json
from pathlib import Path

import numpy as np
import pytest

import stepjit

from .nn_utils_programs import PROGRAMS

RECORDED = json.loads((Path(__file__).parents[1] / "fixtures" / "nn_utils" /
                       "programs.json").read_text())


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_eager_matches_pytorch(name):
    np.testing.assert_allclose(PROGRAMS[name](stepjit), RECORDED[name], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_matches_eager(name):
    fns = []

    def wrap(step):
        fns.append(stepjit.compile(step, backend="interpret"))
        return fns[-1]
    eager = PROGRAMS[name](stepjit)
    compiled = PROGRAMS[name](stepjit, wrap)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=1e-14)
    assert fns[0].stats()["fallbacks"] == 0
