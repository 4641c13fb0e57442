"""A NumPy array the step reaches through an attribute or a container (the character-level
classification tutorial's `for i in batch:` over `np.array_split` index batches, kept here on
an object the loop updates, picking which examples the step trains on): its values drive the
step's Python, so the trace guards them (a copy, compared on every call; tracer/values.py
ArrayGuard). Before, nothing guarded them: a later batch of the same length replayed the
examples of the batch traced, silently. (An array bound to the step's own name is an input of
the trace instead: arrays.py.)"""
import numpy as np

import stepjit as torch


class Loop:
    """What a training loop keeps between calls."""
    batch = None


def _run(compiled, change_in_place=False):
    torch.manual_seed(0)
    examples = [torch.randn(1, 3, dtype=torch.float64) for _ in range(8)]
    w = torch.ones(3, 1, dtype=torch.float64, requires_grad=True)
    batches = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5]), np.array([6, 7])] * 2
    state = Loop()

    def step():
        total = 0
        for i in state.batch:
            total = total + (examples[i] @ w).pow(2).sum()
        total.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return total

    fn = torch.compile(step, backend="interpret") if compiled else step
    out = []
    if change_in_place:                       # one array, its values changed between calls
        state.batch = np.array([0, 1])
        for b in batches:
            state.batch[:] = b
            out.append(fn().item())
    else:
        for state.batch in batches:           # rebinds the attribute the step reads
            out.append(fn().item())
    return out, w.detach().numpy()


def test_an_index_array_the_loop_rebinds_on_an_object_is_not_replayed():
    eager, w_eager = _run(False)
    compiled, w_comp = _run(True)
    assert compiled == eager
    np.testing.assert_array_equal(w_comp, w_eager)


def test_an_index_array_changed_in_place_is_not_replayed():
    eager, w_eager = _run(False, change_in_place=True)
    compiled, w_comp = _run(True, change_in_place=True)
    assert compiled == eager
    np.testing.assert_array_equal(w_comp, w_eager)


def _masked(compiled):
    mask = np.array([1.0, 0.0, 2.0])
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)

    def step(x):
        loss = (w * x * torch.from_numpy(mask)).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    fn = torch.compile(step, backend="interpret") if compiled else step
    out = [fn(torch.ones(3, dtype=torch.float64)).item() for _ in range(6)]
    st = fn.stats() if compiled else None
    mask[1] = 5.0                           # the values the trace took as a constant
    out += [fn(torch.ones(3, dtype=torch.float64)).item() for _ in range(2)]
    return out, st


def test_an_unchanged_array_keeps_one_trace_and_a_changed_one_retraces():
    eager, _ = _masked(False)
    compiled, st = _masked(True)
    assert compiled == eager
    assert st["traces"] <= 2 and st["mode"] == "tree", st
