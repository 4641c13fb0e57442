"""Tensor.register_post_accumulate_grad_hook: an optimizer step fused into backward (PyTorch's
tutorial pattern) gives the same training as the ordinary step after backward, eagerly and
compiled; PyTorch where installed; errors and removal."""
import numpy as np
import pytest

import stepjit


def _train(T, fused, steps=5, compiled=False):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.Tanh(), T.nn.Linear(8, 1))
    with T.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(T.tensor(np.cos(np.arange(p.numel()) + i).reshape(tuple(p.shape)),
                             dtype=T.float32))
    x = T.tensor(np.sin(np.arange(20.0)).reshape(5, 4), dtype=T.float32)
    y = T.tensor(np.cos(np.arange(5.0)).reshape(5, 1), dtype=T.float32)
    if fused:
        opts = {p: T.optim.Adam([p], lr=0.01) for p in model.parameters()}

        def hook(p):
            opts[p].step()
            opts[p].zero_grad()
        for p in model.parameters():
            p.register_post_accumulate_grad_hook(hook)
    else:
        opt = T.optim.Adam(model.parameters(), lr=0.01)

    def step():
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        if not fused:
            opt.step()
            opt.zero_grad()
        return loss.detach()

    run = T.compile(step) if compiled else step
    losses = [run().item() for _ in range(steps)]
    if compiled:
        assert run.stats()["fallbacks"] == 0 and run.stats()["mode"] == "tree"
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def test_fused_step_equals_the_ordinary_step():
    (la, pa), (lb, pb) = _train(stepjit, False), _train(stepjit, True)
    assert la == lb
    for a, b in zip(pa, pb):
        np.testing.assert_array_equal(a, b)


def test_same_as_pytorch():
    torch = pytest.importorskip("torch")
    (la, pa), (lb, pb) = _train(stepjit, True), _train(torch, True)
    np.testing.assert_allclose(la, lb, rtol=1e-5)
    for a, b in zip(pa, pb):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_compiled_fused_step_matches_eager():
    (la, pa), (lb, pb) = _train(stepjit, True, steps=4), _train(stepjit, True, 4, compiled=True)
    np.testing.assert_allclose(la, lb, rtol=1e-6)
    for a, b in zip(pa, pb):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_errors_removal_and_order():
    w = stepjit.ones(2, requires_grad=True)
    seen = []
    h1 = w.register_post_accumulate_grad_hook(lambda t: seen.append(("a", t.grad.tolist())))
    w.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t is w)))
    (w * 3).sum().backward()
    assert seen == [("a", [3.0, 3.0]), ("b", True)]
    h1.remove()
    (w * 2).sum().backward()
    assert seen[2:] == [("b", True)] and w.grad.tolist() == [5.0, 5.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        stepjit.ones(2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
