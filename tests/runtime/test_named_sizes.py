"""A tensor the step reads by name (a global the loop rebinds: `line_tensor`, the batch of
`for x, y in loader` in a script's loop made a step) whose sizes change between calls: a new
shape, as for an argument (config.dynamo.automatic_dynamic_shapes): traced without counting
against the recompile limit, never an eager fallback."""
import warnings

import numpy as np

import stepjit as torch

w = torch.ones(4, requires_grad=True)
seq = torch.ones(1, 4)


def step():
    h = torch.zeros(4)
    for i in range(seq.size(0)):          # unrolled over the sequence's length
        h = torch.tanh(seq[i] * w + h)
    loss = h.sum()
    loss.backward()
    with torch.no_grad():
        w.sub_(0.1 * w.grad)
        w.grad.zero_()
    return loss


def _losses(fn, lengths):
    global seq
    with torch.no_grad():
        w.fill_(1.0)
    out = []
    for n in lengths:
        seq = torch.linspace(-1.0, 1.0, n * 4).reshape(n, 4)
        out.append(float(fn()))
    return out


def test_new_sizes_of_a_named_tensor_are_not_counted_against_the_recompile_limit():
    lengths = [3, 5, 2, 4, 6, 3, 5, 6]   # 5 lengths: past the limit (3)
    eager = _losses(step, lengths)
    fn = torch.compile(step, backend="interpret", recompile_limit=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no recompile-limit warning
        got = _losses(fn, lengths)
    assert got == eager
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree", st
    assert st["shape_traces"] >= len(set(lengths)) - 2, st
