"""Programs in the style of d2l's application chapters (d2l_apps_programs.py), whose steps take
the model, loss and optimizer as arguments: eager against PyTorch's recorded per-step losses
(float64, to 1e-9), compiled against eager (bitwise on the interpret backend, to 1e-9 on cpu),
with no eager fallback and no call run eagerly. Recorded by `python -m tests.fixtures d2l_apps`.

Traces: a step with Adam's state made on its first call is traced twice; the sentiment step
once more after each `net.eval()` (the bool its `net.train()` finds); the style-transfer step
whose StepLR (an argument) counts epochs in `last_epoch` once per new outcome of `(last_epoch
+ 1) % step_size`. Before the optimizer and scheduler arguments' attributes were guarded
(values.argument_roots), that step replayed its first learning rate (3.8e-2 off eager)."""
import pytest

from tests.fixtures import program_losses

from .d2l_apps_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("d2l_apps", PROGRAMS)

MAX_TRACES = {"sentiment": 3, "segmentation_style": 5}

# (the BiRNN/TextCNN pair and BERT on cpu: about two minutes of Numba compiling on 2 cores)
CASES = [(name, "interpret") for name in sorted(PROGRAMS)] + [
    (name, "cpu") for name in sorted(PROGRAMS) if name not in ("sentiment", "bert")]


@pytest.mark.parametrize("name,backend", CASES)
def test_compiled_matches_eager_and_stays_compiled(name, backend, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    program_losses.assert_same_as_eager(losses, eager[name], backend)
    for fn in made:
        st = fn.stats()
        assert st["traces"] <= MAX_TRACES.get(name, 2), st
        assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
