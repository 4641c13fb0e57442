"""STEPJIT_NATIVE=1: a tiny step runs as one Numba function and still matches eager."""
import re

import numpy as np

import stepjit as torch
from stepjit.codegen.native_program import INLINE_MAX_ELEMENTS
from stepjit.programs.cpu import CpuProgram


def kernel_calls(text):
    """{loop kernel name: (calls from program(...), inlined)} of a native program's module: the
    kernels it defines, with those whose lines program(...) holds instead of a call (their
    locals prefixed `_<k>_`, codegen/inlined.py) as called once and inlined."""
    body = text.split("\ndef program(", 1)[1].split("\ndef program_packed(", 1)[0]
    out = {f"loop{k}": (1, True) for k in set(re.findall(r"\b_(\d+)_\w+ = ", body))}
    for decorator, name in re.findall(r"(@njit\([^)]*\))\ndef (loop\d+)\(", text):
        out[name] = (len(re.findall(rf"\b{name}\(", body)), 'inline="always"' in decorator)
    return out


def test_native_program_matches_eager(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    x = torch.tensor([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    y = torch.tensor([[1.0], [0.0], [1.0]])
    w = torch.tensor([[0.1], [-0.2]], requires_grad=True)

    def step(x, y):
        loss = ((x @ w).sigmoid() - y).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.5 * w.grad)
            w.grad.zero_()
        return loss

    step(x, y)                                   # create .grad eagerly: the steady-state trace
    graph = torch.make_ir(step)(x, y)
    program = CpuProgram(graph, keep=())
    assert program.native is not None and "def program(" in program.native_text
    calls = kernel_calls(program.native_text)
    assert calls and all(inlined for _, inlined in calls.values())   # tiny loops, called once
    env = {graph.inputs[0]: x.numpy(), graph.inputs[1]: y.numpy()}
    w_before = w.detach().numpy().copy()
    for v, label in graph.lifted:
        env[v] = {"@w": w_before.copy(), "@w.grad": np.zeros((2, 1), np.float32)}[label]
    out = program.run(env)
    expected = step(x, y)                        # eager, from the same weights
    np.testing.assert_allclose(out[graph.outputs[0]], expected.detach().numpy(), rtol=1e-6)
    written = dict((label, out[v]) for label, v in graph.writes)
    np.testing.assert_allclose(written["@w"], w.detach().numpy(), rtol=1e-5)


def test_structurally_equal_loops_share_one_kernel_function(monkeypatch):
    """An unrolled RNN's steps are the same loop over other values: the native program's module
    holds that loop once (Numba compiles each function of it), and still matches eager."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(0)
    wx = torch.tensor(r.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    wh = torch.tensor(r.standard_normal((4, 4)).astype(np.float32) * 0.5, requires_grad=True)
    xs = torch.tensor(r.standard_normal((5, 2, 3)).astype(np.float32))

    def step(xs):
        h = torch.zeros(2, 4)
        for t in range(xs.shape[0]):
            h = torch.tanh(xs[t] @ wx + h @ wh)
        loss = (h * h).sum()
        loss.backward()
        return loss

    fn = torch.compile(step)
    got = [fn(xs).item() for _ in range(2)]
    assert got[0] == got[1]
    wx.grad = wh.grad = None
    want = step(xs)
    np.testing.assert_allclose(got[0], want.item(), rtol=1e-5)
    for _, program in fn.programs.values():   # (.grad None, then accumulating into it)
        loops = sum(g.kind == "loop" for g in program.fused.groups)
        assert program.is_native and loops >= 10
        assert program.native_text.count("\ndef loop") <= loops // 2
        calls = kernel_calls(program.native_text)
        assert any(n > 1 for n, _ in calls.values())
        for n, inlined in calls.values():       # a shared kernel stays one function
            assert inlined == (n == 1)


def test_large_loops_stay_calls_small_ones_are_inlined(monkeypatch):
    """A loop over more than INLINE_MAX_ELEMENTS elements is called, not inlined (a call costs
    nothing next to its work); the small ones of the same program are inlined; both match eager."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(1)
    side = 40
    assert side * side > INLINE_MAX_ELEMENTS
    w0 = r.standard_normal((side, side)).astype(np.float32)
    x = torch.tensor(r.standard_normal((side, side)).astype(np.float32))

    def step(x, w):
        loss = (torch.tanh(x * w) * 0.5).sum() / 3.0
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss

    w = torch.tensor(w0.copy(), requires_grad=True)
    fn = torch.compile(step, backend="cpu")
    got = [fn(x, w).item() for _ in range(3)]
    w_eager = torch.tensor(w0.copy(), requires_grad=True)
    want = [step(x, w_eager).item() for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(w.detach().numpy(), w_eager.detach().numpy(), rtol=1e-5)
    texts = [p.native_text for _, p in fn.programs.values() if p.is_native]
    assert texts
    for text in texts:
        calls = kernel_calls(text)
        inlined = {name for name, (_, i) in calls.items() if i}
        assert inlined and inlined != set(calls)


def test_a_loop_called_with_many_arguments_stays_a_call(monkeypatch):
    """CPython passes more than 30 arguments as f(*args), which Numba cannot inline: such a
    loop stays a call (inlining it fails to compile), and the program matches eager."""
    from stepjit.codegen import native_program
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(2)
    xs = [torch.tensor(r.standard_normal(4).astype(np.float32)) for _ in range(34)]

    def step(*xs):
        total = xs[0]
        for x in xs[1:]:
            total = total * 0.5 + x
        return total.tanh()

    fn = torch.compile(step, backend="cpu")
    np.testing.assert_allclose(fn(*xs).numpy(), step(*xs).numpy(), rtol=1e-6)
    (_, program), = fn.programs.values()
    calls = kernel_calls(program.native_text)
    args = max(len(line.split(",")) for line in program.native_text.splitlines()
               if line.strip().startswith("loop") and "(" in line)
    assert args > native_program.INLINE_MAX_ARGS
    assert program.is_native and not any(inlined for _, inlined in calls.values())
