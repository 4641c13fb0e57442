"""Siblings (groups that only share an input) fuse through an input of more than one element,
never through a scalar (passes/fusion.py, rule 5): reading a learning rate twice costs
nothing, and joined through one, every few same-shaped parameters' optimizer updates became
one loop, a kernel for each combination. Apart, one kernel updates every parameter of a rank."""
import numpy as np

import stepjit as torch
from stepjit.programs.cpu import LoopStep
from stepjit.passes.fusion import fuse

from .helpers import Builder


def _loops(graph):
    return [g for g in fuse(graph).groups if g.kind == "loop"]


def _two_updates(shared_shape):
    b = Builder()
    lr = b.input("lr", shared_shape)
    p, q = b.lifted("p", (8,)), b.lifted("q", (8,))
    gp, gq = b.input("gp", (8,)), b.input("gq", (8,))
    return b.done(writes=[("@p", b("sub", p, b("mul", gp, lr))),
                          ("@q", b("sub", q, b("mul", gq, lr)))])


def test_siblings_sharing_only_a_scalar_stay_apart():
    assert len(_loops(_two_updates(()))) == 2
    assert len(_loops(_two_updates((1,)))) == 2


def test_siblings_sharing_an_array_still_fuse():
    assert len(_loops(_two_updates((8,)))) == 1


def _adamw(sizes, compiled):
    rng = np.random.default_rng(1)
    params = [torch.tensor(rng.standard_normal(n), requires_grad=True) for n in sizes]
    x = torch.tensor(rng.standard_normal(4))
    opt = torch.optim.AdamW(params, lr=0.01, weight_decay=0.1)

    def step():
        loss = sum(((p[:4] * x).tanh() ** 2).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step) if compiled else step
    losses = [fn().item() for _ in range(4)]
    return fn, losses, [p.detach().numpy().copy() for p in params]


def _updates(fn):
    """The distinct kernels (one per structure: their comments name each graph's values) of
    the loops that update an optimizer's state."""
    return {st.kernel.fname for _, prog in fn.programs.values() for st in prog.steps
            if isinstance(st, LoopStep) and "exp_avg_sq" in st.source}


def test_adamw_over_same_shaped_parameters_compiles_one_update_kernel():
    """Five parameters of one shape: one update kernel (there were two: a loop updating two
    parameters, twice, and one updating the fifth), and eager's values in float64."""
    sizes = [6] * 5
    fn, losses, params = _adamw(sizes, compiled=True)
    _, want_losses, want = _adamw(sizes, compiled=False)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12)
    for got, ref in zip(params, want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert len(_updates(fn)) == 1, _updates(fn)
