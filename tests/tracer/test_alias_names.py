"""A name the step binds to a tensor it read through another name (tracer/aliases.py).

The CIFAR-10 tutorial's loop, `for i, data in enumerate(trainloader): inputs, labels = data`,
turned into a step whose `labels` is a global (the evaluation code after the loop uses that
name too): the step binds `labels` to `data[1]` itself. Compiled, every call must equal the
eager one and leave `labels` bound to that call's `data[1]` (the very object, as eagerly),
replaying one trace: before, the binding search found the batch's tensor through `labels` as
well as through `data`, so it stayed lifted by identity and every new batch traced again,
until the recompile limit made the step run eagerly.
"""
import numpy as np
import pytest

import stepjit as torch

CALLS = 12      # more than the recompile limit (8)


def _loader(kind):
    g = torch.Generator().manual_seed(7)
    xs = torch.rand(4 * CALLS, 5, generator=g, dtype=torch.float64)
    ys = torch.rand(4 * CALLS, 2, generator=g, dtype=torch.float64)
    batches = [[xs[i:i + 4], ys[i:i + 4]] for i in range(0, 4 * CALLS, 4)]
    return batches if kind == "list" else [tuple(b) for b in batches]


def _run_globals(kind, compiled):
    """The loop at a module's top level: `data` and `labels` are globals of the step."""
    namespace = {"torch": torch}
    exec(compile(
        "torch.manual_seed(0)\n"
        "model = torch.nn.Linear(5, 2).double()\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n"
        "def step():\n"
        "    global labels\n"
        "    inputs, labels = data\n"
        "    opt.zero_grad()\n"
        "    loss = ((model(inputs) - labels) ** 2).mean()\n"
        "    loss.backward()\n"
        "    opt.step()\n"
        "    return loss\n", "<loop>", "exec"), namespace)
    fn = torch.compile(namespace["step"]) if compiled else namespace["step"]
    losses, same = [], []
    for data in _loader(kind):
        namespace["data"] = data
        losses.append(fn().item())
        same.append(namespace["labels"] is data[1])
    return losses, namespace["model"].weight.detach().numpy().copy(), same, fn


@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_a_global_unpacked_from_the_batch_replays_one_trace(kind):
    eager, w_eager, same_eager, _ = _run_globals(kind, False)
    compiled, w_comp, same, fn = _run_globals(kind, True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-12)
    assert same == same_eager == [True] * CALLS
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    # first call (momentum state), the next (its replay), the re-verification at reuse #1
    assert st["traces"] <= 3, st


def test_a_closure_variable_unpacked_from_the_batch_replays_one_trace():
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2).double()
    data = labels = None

    def step():
        nonlocal labels
        x, labels = data
        loss = ((model(x) - labels) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        return loss

    def run(fn):
        nonlocal data
        out = []
        for data in _loader("tuple"):
            out.append((fn().item(), labels is data[1]))
        return out

    eager = run(step)
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2).double()
    fn = torch.compile(step)
    compiled = run(fn)
    assert [s for _, s in compiled] == [True] * CALLS
    np.testing.assert_allclose([v for v, _ in compiled], [v for v, _ in eager], rtol=1e-12)
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["traces"] <= 3, st


def test_a_name_bound_to_a_weight_keeps_its_identity_guard():
    """`last = model.weight` binds a name to a tensor lifted by identity: after a compiled
    call the name holds that weight, and rebinding the model's weight traces again."""
    namespace = {"torch": torch}
    exec(compile(
        "model = torch.nn.Linear(3, 1).double()\n"
        "x = torch.ones(2, 3, dtype=torch.float64)\n"
        "def step():\n"
        "    global last\n"
        "    last = model.weight\n"
        "    return (model(x) ** 2).sum()\n", "<weights>", "exec"), namespace)
    fn = torch.compile(namespace["step"])
    for _ in range(3):
        fn()
        assert namespace["last"] is namespace["model"].weight
    namespace["model"].weight = torch.nn.Parameter(torch.zeros(1, 3, dtype=torch.float64))
    out = fn()
    assert namespace["last"] is namespace["model"].weight
    assert out.item() == pytest.approx(2 * namespace["model"].bias.item() ** 2)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_global_bound_to_an_argument_follows_every_call(backend):
    """`global last_x; last_x = x`: a replayed call binds the name to that call's argument
    (before, it kept the tensor of the call that was traced: a stale value)."""
    namespace = {"torch": torch}
    exec(compile(
        "w = torch.ones(3, dtype=torch.float64, requires_grad=True)\n"
        "def step(x, y):\n"
        "    global last_x, last_y\n"
        "    last_x, last_y = x, y\n"
        "    loss = ((w * x).sum() - y.sum()) ** 2\n"
        "    loss.backward()\n"
        "    with torch.no_grad():\n"
        "        w.sub_(0.01 * w.grad)\n"
        "        w.grad.zero_()\n"
        "    return loss\n", "<arguments>", "exec"), namespace)
    fn = torch.compile(namespace["step"], backend=backend)
    for i in range(CALLS):
        x = torch.full((3,), float(i), dtype=torch.float64)
        y = torch.full((2,), 0.5 * i, dtype=torch.float64)
        fn(x, y)
        assert namespace["last_x"] is x and namespace["last_y"] is y
    assert fn.stats()["traces"] <= 3 and fn.stats()["fallbacks"] == 0


def test_two_names_bound_to_one_batch_tensor_both_follow():
    namespace = {"torch": torch}
    exec(compile(
        "w = torch.ones(5, 2, dtype=torch.float64, requires_grad=True)\n"
        "def step():\n"
        "    global first, also\n"
        "    first = also = data[0]\n"
        "    loss = (first @ w).pow(2).mean()\n"
        "    loss.backward()\n"
        "    with torch.no_grad():\n"
        "        w.sub_(0.1 * w.grad)\n"
        "        w.grad.zero_()\n"
        "    return loss\n", "<two names>", "exec"), namespace)
    fn = torch.compile(namespace["step"])
    for data in _loader("tuple"):
        namespace["data"] = data
        fn()
        assert namespace["first"] is data[0] and namespace["also"] is data[0]
    st = fn.stats()
    assert st["traces"] <= 3 and st["fallbacks"] == 0, st
