"""Only names the step's bytecode uses as globals are its global roots (helpers.global_names):
`opt.step()` puts "step" in co_names as an attribute, and a script's loop counter that happens
to be a global named `step` must not be guarded as if the step read it."""
import numpy as np

import stepjit as torch
from stepjit.tracer.helpers import code_names, global_names
from stepjit.tracer.values import roots

step = 0          # the script's loop counter, named as tutorials name it
zero_grad = None  # a global named as a method the step calls


def _train_step(w, opt, x):
    opt.zero_grad()
    loss = ((w * x) ** 2).sum()
    loss.backward()
    opt.step()
    return loss


def test_attribute_names_are_not_global_names():
    names = global_names(_train_step.__code__)
    assert "step" in code_names(_train_step.__code__)
    assert "step" not in names and "zero_grad" not in names


def test_nested_code_and_global_statements_are_seen():
    def outer():
        global step
        step += 1
        return [abs(v) for v in range(3)]
    names = global_names(outer.__code__)
    assert {"step", "abs", "range"} <= names


def test_the_steps_roots_are_the_globals_it_uses():
    labels = [r[3] for r in roots(_uses_globals)]
    assert labels == ["global OPT", "global W"]


OPT = W = None


def _uses_globals(x):
    OPT.zero_grad()
    loss = (W * x).sum()
    loss.backward()
    OPT.step()
    return loss


def test_a_global_named_like_a_method_changing_every_call_is_not_guarded():
    """The script's counter `step` changes every call; the step never reads it. Compiled
    results equal NumPy's SGD, and the counter is in none of the trace's guards."""
    global step, OPT, W
    W = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    OPT = torch.optim.SGD([W], lr=0.1)
    x = torch.tensor([0.5, 1.0, -1.0])
    c = torch.compile(_uses_globals)
    w_ref = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    for step in range(6):
        loss = c(x)
        assert np.isclose(loss.item(), float((w_ref * x.numpy()).sum()), rtol=1e-6)
        w_ref = w_ref - np.float32(0.1) * x.numpy()
    np.testing.assert_allclose(W.detach().numpy(), w_ref, rtol=1e-6)
    assert c.stats()["fallbacks"] == 0
    described = " ".join(g.label for t in c.traces for g in t.py_guards)
    assert "global step" not in described
