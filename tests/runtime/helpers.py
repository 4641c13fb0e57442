"""Run a program eagerly and compiled, and compare everything a user could observe."""
import numpy as np

import stepjit as torch
from stepjit.ir.parser import parse_graph
from stepjit.ir.printer import print_graph
from stepjit.ir.verifier import verify
from stepjit.tracer.pytree import flatten


def snapshot(result, state):
    leaves, tree = flatten(result, lambda x: isinstance(x, torch.Tensor))
    out = [np.array(t.detach().numpy()) for t in leaves]
    weights = [np.array(p.detach().numpy()) for p in state]
    grads = [None if p.grad is None else np.array(p.grad.numpy()) for p in state]
    return out, weights, grads, tree


def assert_same(a, b, exact=True, rtol=1e-5):
    assert type(a) is type(b) or (a is None) == (b is None), (a, b)
    if a is None:
        return
    if exact:
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True), np.max(np.abs(a - b))
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def check_graph(graph):
    """Every traced graph verifies and survives print -> parse -> print."""
    verify(graph)
    text = print_graph(graph)
    assert print_graph(parse_graph(text)) == text


def run_eager_and_compiled(make, steps=20, backend="interpret", exact=True):
    step, args, state = make()
    eager = [snapshot(step(*args), state) for _ in range(steps)]
    step, args, state = make()
    compiled = torch.compile(step, backend=backend)
    got = [snapshot(compiled(*args), state) for _ in range(steps)]
    for k, (e, c) in enumerate(zip(eager, got)):
        assert e[3] == c[3], f"step {k}: result structure differs"
        for part in range(3):
            for x, y in zip(e[part], c[part]):
                assert_same(x, y, exact)
    for event in compiled.events:
        if "trace" in event:
            check_graph(event["trace"].graph)
    return compiled
