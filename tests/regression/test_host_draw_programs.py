"""The GAN steps of host_draw_programs.py, which draw with NumPy's global stream inside the
step: eager against PyTorch's recorded losses and final stream position (float64, to 1e-9),
compiled against eager, with every call replayed from traces made once (no eager call, no
per-call retracing). Recorded by `python -m tests.fixtures host_draws`."""

import pytest

from tests.fixtures import program_losses

from .host_draw_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("host_draws", PROGRAMS)

# traces: the first call (Adam's state made: that call only), then the replayed one; wgan_gp's
# first call makes both optimizers' state, then a critic-only and a generator trace replay
TRACES = {"conditional_gan": 2, "wgan_gp": 3}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_matches_eager_and_is_replayed(name, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], "interpret")
    assert losses == eager[name]
    st = made[0].stats()
    assert (st["mode"], st["traces"], st["fallbacks"], st["eager_calls"]) == \
        ("tree", TRACES[name], 0, 0), st
