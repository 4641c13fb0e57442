"""Tensors a step reaches through a plain global or closure name (tracer/sources.py).

A script's training loop made into a step reads the batch from names the loop rebinds before
every call, rebinds them (`images = images.reshape(-1, 12)`), and leaves `loss` and
`outputs` in names the script reads after the loop. Each compiled call must equal the eager
one, with two traces in all (the optimizer's first step, then the steady state) and no call
run eagerly: before, every call retraced (a new batch object failed the identity guard, a
tensor left in a name made the trace describe one call only) and past the recompile limit
the step ran eagerly.
"""
import numpy as np
import pytest

import stepjit as torch

nn = torch.nn
CALLS = 12


def _batches(n=CALLS):
    g = torch.Generator().manual_seed(1)
    return [(torch.rand(4, 3, 4, generator=g), torch.randint(0, 3, (4,), generator=g))
            for _ in range(n)]


def _training(compiled):
    """A module-level loop in the shape a rewritten script has: globals in, globals out."""
    torch.manual_seed(0)
    model = nn.Linear(12, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    crit = nn.CrossEntropyLoss()
    space = {"model": model, "opt": opt, "crit": crit}
    exec(compile(
        "def step():\n"
        "    global images, labels, outputs, loss\n"
        "    images = images.reshape(-1, 12)\n"
        "    labels = labels.to('cpu')\n"
        "    outputs = model(images)\n"
        "    loss = crit(outputs, labels)\n"
        "    opt.zero_grad()\n"
        "    loss.backward()\n"
        "    opt.step()\n", "<loop>", "exec"), space)
    step = torch.compile(space["step"]) if compiled else space["step"]
    losses, kept = [], []
    for images, labels in _batches():
        space["images"], space["labels"] = images, labels
        step()
        losses.append(space["loss"].item())
        kept.append(space["outputs"])
    return losses, kept, model, step, space


@pytest.fixture(scope="module")
def runs():
    return _training(False), _training(True)


def test_a_batch_read_from_rebound_globals_compiles_once(runs):
    (eager, _, m_eager, _, _), (compiled, _, m_comp, step, _) = runs
    np.testing.assert_allclose(compiled, eager, rtol=1e-5)
    np.testing.assert_allclose(m_comp.weight.detach().numpy(), m_eager.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-7)
    st = step.stats()
    assert st["fallbacks"] == 0
    assert st["traces"] == 2, st     # Adam's first step creates its state; then one trace


def test_names_the_step_binds_hold_a_fresh_tensor_after_every_call(runs):
    (_, kept_eager, _, _, s_eager), (_, kept, _, _, space) = runs
    # a reference kept to the previous call's tensor keeps that call's value, as eagerly
    assert len({id(t) for t in kept}) == CALLS
    for a, b in zip(kept, kept_eager):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert tuple(space["images"].shape) == (4, 12) == tuple(s_eager["images"].shape)
    np.testing.assert_allclose(space["loss"].item(), s_eager["loss"].item(), rtol=1e-5)


def test_a_closure_batch_and_a_closure_result():
    def train(compiled):
        torch.manual_seed(0)
        w = torch.zeros(12, 3, requires_grad=True)
        x = y = out = None

        def step():
            nonlocal x, out
            x = x.reshape(4, 12)
            out = torch.nn.functional.cross_entropy(x @ w, y)
            out.backward()
            with torch.no_grad():
                w.sub_(0.5 * w.grad)
                w.grad.zero_()

        f = torch.compile(step) if compiled else step
        seen = []
        for x, y in _batches():
            f()
            seen.append(out.item())
        return seen, w.detach().numpy().copy(), f

    eager, w_eager, _ = train(False)
    compiled, w_comp, f = train(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-5)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-5, atol=1e-7)
    assert f.stats()["fallbacks"] == 0 and f.stats()["traces"] <= 3


B = torch.ones(3)


def _scaled_sum():
    return (B * 2.0).sum()


def test_a_name_bound_to_another_shape_retraces_and_to_another_object_does_not():
    global B
    f = torch.compile(_scaled_sum)
    try:
        for k in range(6):
            B = torch.full((3,), float(k))
            assert f().item() == 6.0 * k
        traces = f.stats()["traces"]
        assert traces == 1
        B = torch.ones(5)
        assert f().item() == 10.0
        assert f.stats()["traces"] == traces + 1
    finally:
        B = torch.ones(3)


def test_a_tensor_also_held_by_a_list_stays_guarded_by_identity():
    """`params` holds w too: read by name, a rebinding of w alone would leave the trace's
    other path (the list) behind; such a tensor keeps its identity guard and retraces."""
    space = {"torch": torch}
    exec(compile(
        "w = torch.ones(3)\n"
        "params = [w]\n"
        "def f():\n"
        "    return (w * 2.0).sum() + params[0].sum()\n", "<mod>", "exec"), space)
    c = torch.compile(space["f"])
    for _ in range(4):
        assert c().item() == space["f"]().item() == 9.0
    space["w"] = torch.full((3,), 2.0)      # the list still holds the old tensor
    for _ in range(4):
        assert c().item() == space["f"]().item() == 15.0


def test_a_result_also_kept_elsewhere_is_not_rebound():
    """`history.append(out)` keeps the tensor outside the name: the step's Python must run
    for that, so the trace still describes one call (and every call agrees with eager)."""
    def run(compiled):
        space = {"torch": torch, "history": []}
        exec(compile(
            "def f(x):\n"
            "    global out\n"
            "    out = x * 3.0\n"
            "    history.append(out)\n"
            "    return out.sum()\n", "<mod>", "exec"), space)
        f = torch.compile(space["f"]) if compiled else space["f"]
        for k in range(5):
            f(torch.full((2,), float(k)))
        return [h.tolist() for h in space["history"]]

    assert run(True) == run(False) == [[3.0 * k] * 2 for k in range(5)]


def test_a_leaf_the_step_creates_in_a_global_stays_a_leaf():
    space = {"torch": torch, "w": None}
    exec(compile(
        "def f(x):\n"
        "    global w\n"
        "    if w is None:\n"
        "        w = torch.ones(2, requires_grad=True)\n"
        "    loss = (w * x).sum()\n"
        "    loss.backward()\n"
        "    return loss\n", "<mod>", "exec"), space)
    f = torch.compile(space["f"])
    f(torch.ones(2))
    f(torch.ones(2))
    w = space["w"]
    assert w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_the_compiled_step_bound_to_its_own_name_is_not_guarded():
    """`step = torch.compile(step)` with `opt.step()` inside: the name `step` reaches the
    compiled function, whose counters change every call; guarding them retraced every call."""
    torch.manual_seed(0)
    space = {"torch": torch, "model": nn.Linear(3, 1)}
    space["opt"] = torch.optim.SGD(space["model"].parameters(), lr=0.1)
    exec(compile(
        "def step(x):\n"
        "    loss = model(x).pow(2).sum()\n"
        "    opt.zero_grad()\n"
        "    loss.backward()\n"
        "    opt.step()\n"
        "    return loss\n"
        "step = torch.compile(step)\n", "<mod>", "exec"), space)
    x = torch.ones(2, 3)
    for _ in range(CALLS):
        space["step"](x)
    st = space["step"].stats()
    assert st["fallbacks"] == 0 and st["traces"] <= 2, st


def test_make_ir_of_a_step_that_rebinds_the_name_it_reads():
    space = {"torch": torch, "running": torch.zeros(3)}
    exec(compile(
        "def f():\n"
        "    global running\n"
        "    running = 0.5 * running + 1.0\n", "<mod>", "exec"), space)
    graph = torch.make_ir(space["f"])()
    assert graph.nodes
    np.testing.assert_array_equal(space["running"].numpy(), [1.0, 1.0, 1.0])
