"""Programs that need higher-order gradients (tests/regression/higher_order_programs.py:
WGAN-GP, truncated Newton with Hessian-vector products, MAML, a physics-informed net) against
PyTorch's recorded run, and their create_graph steps compiled against eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import oracle
from tests.regression import higher_order_programs as programs

RECORDED = oracle.load(Path(__file__).parents[1] / "fixtures" / "higher" / "torch_programs.npz")


@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_eager_matches_pytorch(name):
    got = programs.PROGRAMS[name](stepjit)
    want = RECORDED[name]
    assert set(got) == set(want)
    for k in sorted(want):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-11, err_msg=f"{name} {k}")


@pytest.mark.parametrize("name", ["wgan_gp", "maml", "pinn"])
def test_compiled_step_matches_eager(name):
    eager = programs.PROGRAMS[name](stepjit)
    programs.COMPILED.clear()
    compiled = programs.PROGRAMS[name](stepjit, compile=True)
    for k in sorted(eager):
        np.testing.assert_allclose(compiled[k], eager[k], rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} {k}")
    (step,) = programs.COMPILED
    stats = step.stats()
    assert stats["fallbacks"] == 0 and stats["eager_calls"] == 0, stats
