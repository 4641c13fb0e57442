"""REINFORCE (tests/regression/reinforce_program.py, in the style of pytorch/examples'
reinforce.py): eager per-episode losses and rewards against PyTorch's recorded run (same
random draws), and the policy update compiled against eager."""
import json
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.regression import reinforce_program as program

RECORDED = json.loads((Path(__file__).parents[1] / "fixtures" / "regression"
                       / "reinforce.json").read_text())["episodes"]


def test_eager_episodes_match_pytorch():
    got = program.main(stepjit)
    assert len(got) == len(RECORDED)
    for i, ((loss, reward), (want_loss, want_reward)) in enumerate(zip(got, RECORDED)):
        assert reward == pytest.approx(want_reward, abs=1e-9), f"episode {i}: reward"
        assert loss == pytest.approx(want_loss, rel=1e-4, abs=1e-5), f"episode {i}: loss"


def test_compiled_policy_update_matches_eager():
    def eager(T, *args):
        return program.policy_update(T, *args)

    compiled = stepjit.compile(lambda *args: program.policy_update(stepjit, *args))
    e_losses, e_actions, e_params = program.main_batched(
        stepjit, lambda *args: eager(stepjit, *args))
    c_losses, c_actions, c_params = program.main_batched(stepjit, compiled)
    assert c_actions == e_actions
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5, atol=1e-6)
    for c, e in zip(c_params, e_params):
        np.testing.assert_allclose(c, e, rtol=1e-5, atol=1e-6)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and stats["traces"] <= 2, stats
