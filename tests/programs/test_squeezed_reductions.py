"""A bias's gradient (autograd's sum_to: a sum keeping the summed axis, then a reshape dropping
it) is computed as the reduction's own result (passes/kernel_forms.py,
lower_squeezed_reductions), so it leaves the program as a fresh array that `.grad` takes
without a copy. The rewrite keeps every bit (the interpreter gives the same arrays for the
graph before and after it); the compiled step matches eager."""
import numpy as np

import stepjit as torch
from stepjit.ir import primitives as P
from stepjit.ir.interpreter import evaluate
from stepjit.passes.kernel_forms import lower_squeezed_reductions
from stepjit.runtime import guardcode, writeback

RNG = np.random.default_rng(5)
X0 = RNG.standard_normal((6, 4))
W0, B0 = RNG.standard_normal((4, 3)), RNG.standard_normal(3)


def _step(x, w, b):
    w.grad = b.grad = None
    loss = (x @ w + b).tanh().sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    return loss


def _state():
    return (torch.tensor(X0.copy()), torch.tensor(W0.copy(), requires_grad=True),
            torch.tensor(B0.copy(), requires_grad=True))


def _keepdims_reshapes(g):
    producer = {n.out: n for n in g.nodes}
    return [n for n in g.nodes if n.prim is P.reshape
            and getattr(producer.get(n.inputs[0]), "prim", None) is P.sum
            and producer[n.inputs[0]].attrs["keepdims"]]


def test_bias_gradient_is_the_reductions_own_array(monkeypatch):
    copied, original = [], writeback._owned

    def owned(a):     # the write-back's copy of an array it may not keep
        out = original(a)
        if out is not a:
            copied.append(a.shape)
        return out
    monkeypatch.setattr(writeback, "_owned", owned)
    monkeypatch.setattr(guardcode, "_owned", owned)       # what generated write-backs call
    monkeypatch.setattr(guardcode, "_WRITE_BACKS", {})    # (so none made before is reused)
    s, e = _state(), _state()
    fn = torch.compile(_step)
    for _ in range(4):
        got, want = fn(*s), _step(*e)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    for a, b in zip(s[1:], e[1:]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    assert copied == []
    graph = next(iter(fn.programs.values()))[1].source_graph
    assert _keepdims_reshapes(graph)              # the bias gradient, as traced
    lowered = lower_squeezed_reductions(graph)
    assert not _keepdims_reshapes(lowered)
    env = {v: a for v, a in zip(graph.all_inputs(), (RNG.standard_normal(v.shape)
                                                      for v in graph.all_inputs()))}
    before, after = evaluate(graph, dict(env)), evaluate(lowered, dict(env))
    for v in list(graph.outputs) + [v for _, v in graph.writes]:
        np.testing.assert_array_equal(after[v], before[v])


def test_a_kept_dims_sum_read_elsewhere_stays():
    def step(x):
        s = x.sum(0, keepdim=True)
        return s.reshape(-1), s * 2.0
    fn = torch.compile(step)
    x = torch.tensor(X0.copy())
    for got, want in zip(fn(x), step(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    graph = next(iter(fn.programs.values()))[1].source_graph
    assert lower_squeezed_reductions(graph) is graph
