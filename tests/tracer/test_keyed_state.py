"""A hand-written optimizer that keeps its per-parameter state in a dict keyed by the parameter
(`self.state[p] = {"step": 0, ...}`, as fastai's StatefulOptimizer and most optimizers written
from scratch do), with a step counter that its bias corrections raise numbers to. The snapshot
enters containers under tensor keys, so the counter is guarded and then read per call: the
compiled step stays in tree mode. Before, the counter was baked into the trace as a constant,
found only when a re-verification saw the bias correction change (a stale trace), and the step
was then traced on every call and run eagerly; a counter nothing computed from was replayed
without its increment, silently (two calls counted out of six)."""
import warnings

import numpy as np
import pytest

import stepjit as torch

LR, MOM, SQR, EPS, CALLS = 0.05, 0.9, 0.99, 1e-5, 10


class KeyedAdam:
    def __init__(self, params):
        self.params, self.state = list(params), {}

    def step(self):
        for p in self.params:
            if p not in self.state:
                self.state[p] = {"avg": torch.zeros_like(p), "sqr": torch.zeros_like(p), "step": 0}
            st = self.state[p]
            st["step"] += 1
            st["avg"].mul_(MOM).add_(p.grad, alpha=1 - MOM)
            st["sqr"].mul_(SQR).addcmul_(p.grad, p.grad, value=1 - SQR)
            debias1, debias2 = 1 - MOM ** st["step"], 1 - SQR ** st["step"]
            p.data.addcdiv_(st["avg"] / debias1, (st["sqr"] / debias2).sqrt() + EPS, value=-LR)


def _data():
    r = np.random.RandomState(0)
    return (r.randn(8, 4).astype(np.float32), r.randn(8, 3).astype(np.float32),
            r.randn(3, 4).astype(np.float32) * 0.5, np.zeros(3, np.float32))


def _run(compiled):
    x, y, w, b = _data()
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
        lin.bias.copy_(torch.tensor(b))
    opt, x, y = KeyedAdam(lin.parameters()), torch.tensor(x), torch.tensor(y)

    def step():
        loss = ((lin(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        for p in lin.parameters():
            p.grad = None
        return loss

    f = torch.compile(step, backend="interpret") if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no "went stale" warning
        losses = [float(f()) for _ in range(CALLS)]
    return losses, lin.weight.detach().numpy().copy(), f


def _numpy_adam():
    """The same training in float64 NumPy: gradients of the mean squared error by hand."""
    x, y, w, b = (a.astype(np.float64) for a in _data())
    state = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in (("w", w), ("b", b))}
    losses = []
    for t in range(1, CALLS + 1):
        err = x @ w.T + b - y
        losses.append((err ** 2).mean())
        g = {"w": 2 * err.T @ x / err.size, "b": 2 * err.sum(0) / err.size}
        for k, v in (("w", w), ("b", b)):
            m, s = state[k]
            m[...] = MOM * m + (1 - MOM) * g[k]
            s[...] = SQR * s + (1 - SQR) * g[k] ** 2
            v -= LR * (m / (1 - MOM ** t)) / (np.sqrt(s / (1 - SQR ** t)) + EPS)
    return losses, w


def test_keyed_optimizer_state_stays_compiled_and_matches_eager_and_numpy():
    want_losses, want_w = _numpy_adam()
    eager_losses, eager_w, _ = _run(False)
    losses, w, f = _run(True)
    np.testing.assert_allclose(eager_losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(eager_w, want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    np.testing.assert_allclose(w, eager_w, rtol=1e-6, atol=1e-7)
    stats = f.stats()
    assert stats["mode"] == "tree", stats
    assert stats["stale"] == 0 and stats["eager_calls"] == 0 and stats["fallbacks"] == 0, stats
    assert stats["traces"] <= 4, stats


@pytest.mark.parametrize("nested", [True, False])
def test_a_counter_under_a_tensor_key_counts_every_compiled_call(nested):
    """`seen[p]["n"] += 1` or `seen[p] += 1` per parameter, read by nothing the step computes:
    a replayed call must increment it as the eager call does (the nested counter is guarded
    and replayed; the one directly under the tensor key makes the step run its Python on
    every call, since guards compare keys by value)."""
    def run(compiled):
        torch.manual_seed(0)
        lin = torch.nn.Linear(3, 2)
        x = torch.randn(4, 3)
        seen = {p: {"n": 0} if nested else 0 for p in lin.parameters()}

        def step():
            loss = lin(x).pow(2).mean()
            loss.backward()
            for p in lin.parameters():
                if nested:
                    seen[p]["n"] += 1
                else:
                    seen[p] += 1
                p.data.add_(p.grad, alpha=-0.1)
                p.grad = None
            return loss

        f = torch.compile(step, backend="interpret") if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses = [float(f()) for _ in range(6)]
        return losses, [v["n"] if nested else v for v in seen.values()]

    (le, ne), (lc, nc) = run(False), run(True)
    assert ne == [6, 6]
    assert nc == ne
    np.testing.assert_allclose(lc, le, rtol=1e-6)
