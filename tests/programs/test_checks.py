"""Checks on data inside compiled programs (registry `check`): binary_cross_entropy's input
must lie in [0, 1]. A compiled step raises eager's error, naming the user's line, and leaves
the step's tensors as they were, on every backend: the interpreter (the impl raises), the
cpu program (the loop computes a flag, the program tests it after that loop) and the native
whole-program function (it raises inside; the runtime names the check whose flag is set)."""
import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F
from stepjit.runtime import tree

X = np.array([[0.5, 1.0], [-1.5, 0.3], [2.0, -0.7], [-0.2, -1.1]], np.float32)
Y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)


def _logistic(backend):
    w = stepjit.tensor(np.array([[0.1], [-0.2]], np.float32), requires_grad=True)
    b = stepjit.tensor(np.array([0.05], np.float32), requires_grad=True)

    def step(x, y, scale):
        p = stepjit.sigmoid(x @ w + b) * scale
        loss = F.binary_cross_entropy(p, y)   # the line the error names
        loss.backward()
        with stepjit.no_grad():
            w.sub_(0.5 * w.grad)
            b.sub_(0.5 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
        return loss
    return w, b, step, (stepjit.compile(step, backend=backend) if backend else step)


@pytest.mark.parametrize("backend,native", [("interpret", "0"), ("cpu", "0"), ("cpu", "1")])
def test_bce_outside_unit_interval_raises_in_a_compiled_step(backend, native, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", native)     # "1": a native program from the start
    tree.clear_programs()     # (not the program another case built for the same graph)
    w, b, _, step = _logistic(backend)
    we, be, _, eager = _logistic(None)
    x, y = stepjit.tensor(X), stepjit.tensor(Y)
    one, bad = stepjit.tensor(1.0), stepjit.tensor(3.0)
    for _ in range(4):    # (a trace with .grad None, then the one reused: fast calls built)
        np.testing.assert_allclose(step(x, y, one).item(), eager(x, y, one).item(), rtol=1e-6)
    if backend == "cpu":   # both traces' programs (the first one's returns new .grads too)
        assert [p.is_native for _, p in step.programs.values()].count(True) == 2 * int(native)
        if native == "1":   # the fast call tests the flag after the native call
            assert any("RAISE_CHECK(CHECK, FLAG)" in src for src in step.fast_sources())
    before = [t.detach().numpy().copy() for t in (w, b, w.grad, b.grad)]
    for nan_or_out in (bad, stepjit.tensor(float("nan"))):
        with pytest.raises(RuntimeError) as got:
            step(x, y, nan_or_out)
        with pytest.raises(RuntimeError) as want:
            eager(x, y, nan_or_out)
        text = str(got.value)
        assert "binary_cross_entropy: all elements of input should be between 0 and 1" in text
        assert text.split(" (at ")[0] == str(want.value).split(" (at ")[0]
        assert "test_checks.py:23" in text, text
        for old, t in zip(before, (w, b, w.grad, b.grad)):
            np.testing.assert_array_equal(t.detach().numpy(), old)
    # and the step goes on as before
    np.testing.assert_allclose(step(x, y, one).item(), eager(x, y, one).item(), rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), we.detach().numpy(), rtol=1e-6)
