"""A step that reads a global or closure tensor must follow the name when the user rebinds it
between calls: a tensor bound to the name alone is read through it (tracer/sources.py); one
also reached through an attribute or a container is lifted by identity, and a rebinding of
any link of its paths retraces (compared with eager after many calls, when cached traces run
through the fast call)."""
import numpy as np

import stepjit as torch

W = torch.tensor([1.0, 2.0, 3.0])


def _global_step(x):
    return (x * W).sum()


def test_rebinding_a_global_tensor_is_followed():
    """W is read through its name on every call (tracer/sources.py): the new tensor, with no
    retrace; a trace that replayed the old object would give 6.0."""
    global W
    c = torch.compile(_global_step)
    x = torch.tensor([1.0, 1.0, 1.0])
    for i in range(20):                     # warm: the cached trace runs many times
        assert c(x).item() == _global_step(x).item()
    traces = c.stats()["traces"]
    W = torch.tensor([5.0, 2.0, 3.0])       # same shape and dtype: only identity tells
    try:
        for _ in range(20):
            assert c(x).item() == _global_step(x).item() == 10.0
    finally:
        W = torch.tensor([1.0, 2.0, 3.0])
    assert c.stats()["traces"] == traces
    assert c(x).item() == 6.0


def test_rebinding_a_closure_tensor_is_followed():
    v = torch.tensor([1.0, 2.0])

    def f(x):
        return (x * v).sum()

    c = torch.compile(f)
    x = torch.tensor([1.0, 1.0])
    for _ in range(10):
        c(x)
    v = torch.tensor([4.0, 2.0])
    assert [c(x).item() for _ in range(10)] == [6.0] * 10


def test_in_place_updates_of_the_same_global_do_not_retrace():
    w = torch.tensor(np.ones(3, np.float32), requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    c = torch.compile(step)
    x = torch.tensor([1.0, 2.0, 3.0])
    for _ in range(12):
        c(x)
    assert c.stats()["traces"] <= 3   # the first call (no .grad yet), the steady state, a re-verification
    np.testing.assert_allclose(w.detach().numpy(), 1 - 0.1 * 12 * np.array([1, 2, 3]), rtol=1e-5)


# -- tensors reached through attributes and containers (bindings.py: the path search) ---------
nn = torch.nn


def _agree(compiled, eager, *args, calls=12):
    """Many calls (the fast call serves them once warm), each equal to the eager step's."""
    for _ in range(calls):
        np.testing.assert_allclose(compiled(*args).item(), eager(*args).item(), rtol=1e-6)


def test_rebinding_a_submodule_or_a_parameter_retraces():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))

    def step(x):
        return model(x).sum()

    c = torch.compile(step)
    x = torch.randn(5, 3)
    _agree(c, step, x)
    model[0] = nn.Linear(3, 4)                       # a new submodule: model._modules['0']
    _agree(c, step, x)
    model[2].weight = nn.Parameter(torch.randn(1, 4))  # a new parameter: _parameters['weight']
    _agree(c, step, x)
    traces = c.stats()["traces"]
    _agree(c, step, x)
    assert c.stats()["traces"] == traces             # steady again: no retrace per call


def test_rebinding_an_attribute_or_a_list_item_retraces():
    class Holder:
        pass

    h = Holder()
    h.w = torch.tensor([1.0, 2.0, 3.0])
    params = [torch.tensor([0.5, 0.5, 0.5])]

    def step(x):
        return (x * h.w).sum() + (x * params[0]).sum()

    c = torch.compile(step)
    x = torch.tensor([1.0, 2.0, 3.0])
    _agree(c, step, x)
    h.w = torch.tensor([3.0, 2.0, 1.0])
    _agree(c, step, x)
    params[0] = torch.tensor([-1.0, 0.0, 1.0])
    _agree(c, step, x)
    assert c(x).item() == 10.0 + 2.0


def test_a_compiled_module_follows_its_own_rebound_parameter():
    torch.manual_seed(1)
    lin = nn.Linear(3, 1)
    c = torch.compile(lin)
    x = torch.randn(4, 3)
    for _ in range(12):
        np.testing.assert_allclose(c(x).detach().numpy(), lin(x).detach().numpy(), rtol=1e-6)
    lin.weight = nn.Parameter(torch.randn(1, 3))
    for _ in range(12):
        np.testing.assert_allclose(c(x).detach().numpy(), lin(x).detach().numpy(), rtol=1e-6)


def test_training_with_a_rebuilt_layer_and_a_new_optimizer_matches_eager():
    """Re-initialising a layer mid-training (and an optimizer over the new parameters) is
    followed by the compiled step, updates included."""
    def run(compiled):
        torch.manual_seed(2)
        box = {"model": nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))}
        box["opt"] = torch.optim.SGD(box["model"].parameters(), lr=0.1)
        x, y = torch.randn(8, 3), torch.randn(8, 1)

        def step():
            loss = ((box["model"](x) - y) ** 2).mean()
            loss.backward()
            box["opt"].step()
            box["opt"].zero_grad()
            return loss

        fn = torch.compile(step) if compiled else step
        losses = [fn().item() for _ in range(10)]
        torch.manual_seed(3)
        box["model"][2] = nn.Linear(4, 1)
        box["opt"] = torch.optim.SGD(box["model"].parameters(), lr=0.1)
        losses += [fn().item() for _ in range(10)]
        return losses, box["model"][2].weight.detach().numpy().copy()

    e_losses, e_w = run(False)
    c_losses, c_w = run(True)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-5)


def test_the_search_looks_at_a_bounded_part_of_a_big_container():
    from stepjit.tracer import bindings
    data = [torch.tensor([float(i)]) for i in range(3 * bindings._MAX_ITEMS)]
    w = torch.tensor([2.0])
    holder = {"data": data, "w": w}

    def step(x):
        return (x * holder["w"]).sum()

    c = torch.compile(step)
    x = torch.tensor([1.0])
    _agree(c, step, x)
    holder["w"] = torch.tensor([5.0])
    _agree(c, step, x)
    guards = [g for seg in c._fast_segs for g in seg.py_guards]
    assert len(guards) <= 4        # global holder, holder['w']: not one per list item
