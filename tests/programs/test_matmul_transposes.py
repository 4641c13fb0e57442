"""A matmul reads a 2-D transpose's source as `x.T` (programs/cpu.py), so the transposes of a
backward pass cost no step of their own; a transpose something else reads is still made."""
import numpy as np

import stepjit as torch
from stepjit.programs.cpu import OpStep

RNG = np.random.default_rng(3)
X0, W0 = RNG.standard_normal((4, 5)).astype(np.float32), RNG.standard_normal((5, 3)).astype(np.float32)


def _step_names(fn):
    return [s.node.prim.name for _, prog in fn.programs.values() for s in prog.steps
            if isinstance(s, OpStep)]


def _run(step, compiled):
    x, w = torch.tensor(X0.copy()), torch.tensor(W0.copy(), requires_grad=True)
    fn = torch.compile(step) if compiled else step
    outs = [fn(x, w) for _ in range(3)]
    return fn, outs, w


def _sgd(x, w):
    loss = (x @ w).pow(2).sum()
    loss.backward()            # x.T @ g: a transpose read only by a matmul
    with torch.no_grad():
        w -= 0.01 * w.grad
        w.grad.zero_()
    return loss


def test_backward_transposes_fold_into_their_matmuls():
    _, eager, we = _run(_sgd, False)
    fn, comp, wc = _run(_sgd, True)
    np.testing.assert_allclose([t.item() for t in comp], [t.item() for t in eager], rtol=1e-5)
    np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-5)
    names = _step_names(fn)
    assert "matmul" in names and "transpose" not in names


def _returns_transpose(x, w):
    wt = w.detach().t()
    return x @ wt.t(), wt


def test_a_transpose_that_leaves_the_program_is_still_made():
    _, eager, _ = _run(_returns_transpose, False)
    fn, comp, _ = _run(_returns_transpose, True)
    for (a, b), (c, d) in zip(comp, eager):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5)
        np.testing.assert_array_equal(b.numpy(), d.numpy())
    assert "transpose" in _step_names(fn)


def _linear_sgd(x, w):
    """A Linear layer's weight: the weight gradient is transpose(x.T @ g), then read by the
    update loop together with the C-ordered weight."""
    loss = (x @ w.t()).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
        w.grad = None
    return loss


def test_transpose_of_a_matmul_becomes_the_swapped_matmul_in_c_order():
    from stepjit.ir import primitives as P
    from stepjit.passes.kernel_forms import lower_transposed_matmuls
    x = torch.tensor(X0.copy())
    wl = torch.tensor(W0.T.copy(), requires_grad=True)     # a Linear weight: (out, in)
    fn = torch.compile(_linear_sgd)
    got = [fn(x, wl).item() for _ in range(3)]
    xe, we = torch.tensor(X0.copy()), torch.tensor(W0.T.copy(), requires_grad=True)
    want = [_linear_sgd(xe, we).item() for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(wl.detach().numpy(), we.detach().numpy(), rtol=1e-5, atol=1e-6)
    graph = next(iter(fn.programs.values()))[1].source_graph

    def transposed_matmuls(g):
        producer = {n.out: n for n in g.nodes}
        return [n for n in g.nodes if n.prim is P.transpose
                and getattr(producer.get(n.inputs[0]), "prim", None) is P.matmul]
    assert transposed_matmuls(graph)            # the weight gradient, as traced
    lowered = lower_transposed_matmuls(graph)
    assert not transposed_matmuls(lowered)      # computed by BLAS in C order instead
    assert len([n for n in lowered.nodes if n.prim is P.matmul]) == len(
        [n for n in graph.nodes if n.prim is P.matmul])
