"""Which trace-time tensors outlive a step (trace._escapes): the cycles of garbage a trace
leaves are freed by a collection of the young generations, and a full collection runs only
when something collected during the trace (so garbage may have been moved to the old
generation); the names holding escaping tensors are found in one scan of the heap
(sources.rebound_names)."""
import gc

import numpy as np

import stepjit as torch

outputs = None
hidden = None


def _collecting_step(w, collect):
    def step(x):
        class Box:
            pass
        box = Box()
        box.me = box                # a cycle holding a trace-time tensor: garbage after
        box.t = w * x
        if collect:
            gc.collect()            # moves the cycle to the old generation
        del box
        loss = (w * x).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return step


def test_garbage_moved_to_the_old_generation_is_not_state():
    for collect in (False, True):
        w = torch.ones(3, requires_grad=True)
        compiled = torch.compile(_collecting_step(w, collect), backend="interpret")
        for _ in range(5):
            compiled(torch.ones(3))
        st = compiled.stats()
        # one trace for the first call (.grad None) and one for the rest: no call traced
        # again because a dead tensor looked like state the step made
        assert st["traces"] == 2 and st["mode"] == "tree", (collect, st)


def test_two_names_rebound_in_one_scan():
    global outputs, hidden
    w = torch.ones(3, requires_grad=True)

    def step(x):
        global outputs, hidden
        outputs = w * x
        hidden = outputs * 2.0
        loss = hidden.sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    compiled = torch.compile(step, backend="interpret")
    for i in range(5):
        compiled(torch.ones(3))
        want = np.full(3, 1.0 - 0.2 * i, dtype=np.float32)
        np.testing.assert_allclose(outputs.numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(hidden.numpy(), 2 * want, rtol=1e-6)
    st = compiled.stats()
    assert st["traces"] == 2 and st["mode"] == "tree", st


bow_vec = None


def test_a_name_bound_to_a_view_of_a_tensor_the_step_made():
    """`vec = zeros(n); vec[i] += 1; return vec.view(1, -1)` bound to a global (the official
    bag-of-words tutorial's make_bow_vector): only the view's link kept `vec` alive, so it is
    not state, and the step replays (was: every call traced, then eager past the limit)."""
    global bow_vec

    def make_bow(words):
        vec = torch.zeros(6, dtype=torch.float64)
        for i in words:
            vec[i] += 1
        return vec.view(1, -1)

    def run(compiled):
        global bow_vec
        w = torch.ones(6, 2, dtype=torch.float64, requires_grad=True)

        def step():
            global bow_vec
            bow_vec = make_bow([0, 3, 3])
            loss = (bow_vec @ w).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.01 * w.grad)
                w.grad.zero_()
            return loss
        fn = torch.compile(step, backend="interpret") if compiled else step
        out = []
        for _ in range(12):
            out.append(fn().item())
            assert bow_vec.tolist() == [[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]]
        return out, w.detach().numpy(), fn
    eager, w_eager, _ = run(False)
    compiled, w_comp, fn = run(True)
    assert compiled == eager
    np.testing.assert_array_equal(w_comp, w_eager)
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["traces"] <= 3 and st["mode"] == "tree", st
