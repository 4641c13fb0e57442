"""examples/char_rnn.py: the character model learns, samples text from its vocabulary, and its
compiled training step (interpret backend: the same trace, autodiff, passes and write-back as
cpu, without compiling an unrolled LSTM's kernels) equals the eager step."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import char_rnn as C  # noqa: E402


def test_char_model_learns_and_samples():
    model, step = C.build(compile=False, lr=0.02)
    losses = [step(*C.batch()).item() for _ in range(40)]
    assert losses[0] > 3.0 and np.mean(losses[-5:]) < 0.6 * losses[0], losses
    text = C.sample(model, n=20)
    assert len(text) == 24 and set(text) <= set(C.CHARS)


def test_compiled_step_equals_eager():
    results = []
    for compile in (False, True):
        model, step = C.build(compile=compile, backend="interpret")
        import stepjit
        stepjit.manual_seed(5)
        batches = [C.batch() for _ in range(3)]
        losses = [step(x, y).item() for x, y in batches]
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
        if compile:
            assert step.stats()["fallbacks"] == 0
    (le, pe), (lc, pc) = results
    assert le == lc
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a, b)
