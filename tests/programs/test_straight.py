"""A CPU program runs as one generated straight-line function (codegen/straight_line.py): written
first over the kernels' first-call wrappers, then again over what runs them. Both must compute
the same bits, what the IR interpreter computes, and name the IR values."""
import numpy as np

import stepjit as torch
from stepjit.ir.interpreter import evaluate
from stepjit.programs.cpu import CpuProgram

RNG = np.random.default_rng(11)
X0 = RNG.standard_normal((8, 6)).astype(np.float32)
W0 = RNG.standard_normal((6, 4)).astype(np.float32)
Y0 = RNG.standard_normal((8, 4)).astype(np.float32)


def _step(x, y, w):
    h = (x @ w).clamp(min=0)               # matmul, a loop
    loss = (h - y).pow(2).sum()
    loss.backward()                        # x.T @ g: a transposed matmul operand
    with torch.no_grad():
        w -= 0.01 * w.grad                 # computed into w's buffer
        w.grad.zero_()                     # a fill into .grad's buffer
    return loss, h.reshape(-1)[:5]         # views


def _state():
    return torch.tensor(X0), torch.tensor(Y0), torch.tensor(W0.copy(), requires_grad=True)


def _snapshot(env):
    return {v: np.array(a, copy=True) for v, a in env.items()}


def test_straight_function_computes_what_the_interpreter_computes(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    fn = torch.compile(_step, backend="cpu")
    x, y, w = _state()
    for _ in range(3):
        fn(x, y, w)
    prog = fn.roots[-1].program            # the steady trace's (.grad exists)
    assert isinstance(prog, CpuProgram) and prog.straight is not None, \
        "the program did not build its straight-line function on its first run"
    assert "np.matmul(" in prog.straight_text and ".T, " in prog.straight_text

    captured = {}
    run = CpuProgram.run
    monkeypatch.setattr(CpuProgram, "run",
                        lambda self, env: (self is prog and captured.update(env)) or run(self, env))
    fn(x, y, w)
    monkeypatch.setattr(CpuProgram, "run", run)
    assert captured, "the steady call did not run this program"

    def fresh():
        return {v: np.array(a, copy=True) for v, a in captured.items()}

    steady = _snapshot(prog.run(fresh()))
    kept = prog.straight, prog.straight_text
    prog.straight = None                   # the first run's way: first-call wrappers
    first = _snapshot(prog.run(fresh()))
    assert prog.straight_text == kept[1]
    assert set(first) == set(steady)
    for v in steady:
        np.testing.assert_array_equal(first[v], steady[v], err_msg=f"%{v.name}")
    oracle = evaluate(prog.graph, fresh())
    computed = [v for v in steady if v not in captured]   # inputs may be updated in place
    assert computed and set(computed) <= set(oracle)
    for v in computed:
        np.testing.assert_allclose(steady[v], oracle[v], rtol=1e-6, atol=1e-7, err_msg=f"%{v.name}")


def test_compiled_with_straight_functions_matches_eager():
    fn = torch.compile(_step, backend="cpu")
    xc, yc, wc = _state()
    xe, ye, we = _state()
    for k in range(6):
        lc, hc = fn(xc, yc, wc)
        le, he = _step(xe, ye, we)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-6, err_msg=f"call {k}")
        np.testing.assert_allclose(hc.numpy(), he.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-6)


def _viewing_step(x, w):
    h = (x @ w).clamp(min=0)               # a loop's output, in a workspace buffer
    q = h.reshape(2, 4, 4)[:, 1:3]         # views of that buffer: the same arrays every run
    r = h.t().reshape(-1)                  # a reshape of a transpose: a copy, new every run
    loss = (q @ q.transpose(1, 2)).sum() + (r[:7] * 2.0).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
        w.grad.zero_()
    return loss


def test_views_of_workspace_buffers_are_made_once_and_follow_the_buffer(monkeypatch):
    """A view of a workspace buffer is bound as a constant of the straight function (OpStep.
    _fixed_view) instead of made on each run; a reshape that copies is still made each run.
    h changes every call (w is updated), so a view or copy made once and not followed would
    give a stale loss."""
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    fn = torch.compile(_viewing_step, backend="cpu")
    xc, _, wc = _state()
    xe, _, we = _state()
    for k in range(5):
        lc = fn(xc, wc)
        le = _viewing_step(xe, we)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-5, err_msg=f"call {k}")
        np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-5)
        xc.mul_(0.9)
        xe.mul_(0.9)
    text = fn.roots[-1].program.straight_text
    assert "VIEW_" in text, text
    assert "RESHAPE(" in text, text        # the copying reshape still runs each call
