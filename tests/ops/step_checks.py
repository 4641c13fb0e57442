"""Checks the tests/ops modules share: a one-input training step compiled against eager, and a
bad call's error naming the op and shapes while leaving the input unchanged."""
import numpy as np
import pytest

import stepjit
from stepjit.errors import StepjitError


def compiled_matches_eager(step, x, calls=2, stale=False):
    """`step(x)` backpropagates into x and returns its loss: compiled, each of `calls` calls
    gives eager's loss and x.grad (float64, to 1e-12), and none runs eagerly (nor, with
    `stale`, finds a stale trace)."""
    want = step(x)
    want_grad = x.grad.clone()
    compiled = stepjit.compile(step)
    for _ in range(calls):
        x.grad = None
        np.testing.assert_allclose(compiled(x).numpy(), want.numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), want_grad.numpy(), rtol=1e-12)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and not (stale and stats["stale"]), stats


def raises_naming(name, fn, words, x, errors=(StepjitError, RuntimeError)):
    """fn() raises one of `errors` whose message holds every one of `words`, and leaves the
    tensor x as it was."""
    before = x.numpy().copy()
    with pytest.raises(errors) as info:
        fn()
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{name}: {w!r} not in {msg!r}"
    np.testing.assert_array_equal(x.numpy(), before)
