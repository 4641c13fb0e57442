"""A native program's repeated runs of groups (an unrolled RNN's steps) are one function called
per repetition (codegen/repeats.py), and the program still matches eager."""
import re

import numpy as np

import stepjit as torch
from stepjit.codegen.repeats import outline


def _rnn_units(steps):
    """Program lines shaped as native_program emits an RNN cell's steps: a view of the
    timestep's input, two matmuls into alternating buffers, a loop writing the new state."""
    units = [["v0 = w0", "v0[...] = np.float32(0.0)"]]
    h = "v0"
    for t in range(steps):
        x, a, b, out = (f"v{4 * t + k}" for k in range(1, 5))
        wa, wb = ("w1", "w2") if t % 2 == 0 else ("w2", "w1")
        units += [[f"{x} = i0[{t}]"],
                  [f"{a} = {wa}", f"gemm(as_any({x}), as_any(i1), as_any({a}), dims[0], np.int64)"],
                  [f"{b} = {wb}", f"gemm(as_any({h}), as_any(i2), as_any({b}), dims[0], np.int64)"],
                  [f"{out} = w{3 + t}", f"loop0({a}, {b}, {out}, dims[1], dims[2])"]]
        h = out
    units.append([f"loop1({h}, h0, dims[1])"])
    return units


def test_repeated_steps_are_one_function_called_per_step():
    lines, functions = outline(_rnn_units(6))
    assert len(functions) == 1
    fn = functions[0]
    assert fn.startswith("def repeat0(i0, w1, i1, w2, v0, i2, w3, at0, dims):")
    assert "v1 = i0[at0]" in fn and fn.count("gemm(") == 2 and fn.count("loop0(") == 1
    calls = [line for line in lines if line.startswith("repeat0(")]
    assert calls[0] == "repeat0(i0, w1, i1, w2, v0, i2, w3, np.int64(0), dims)"
    # a step's state, read by the next step (and the last by the line after the run), is
    # the buffer the step bound it to; nothing else the steps bind is read later
    assert calls[1] == "repeat0(i0, w2, i1, w1, w3, i2, w4, np.int64(1), dims)"
    assert len(calls) == 6
    assert not any("gemm(" in line or "loop0(" in line for line in lines)
    assert [line for line in lines if not line.startswith("repeat0(")] == \
        ["v0 = w0", "v0[...] = np.float32(0.0)", "loop1(w8, h0, dims[1])"]


def test_a_view_a_step_binds_is_bound_again_for_later_lines():
    units = [[f"v{2 * t} = i0[{t}]", f"v{2 * t + 1} = w{t}", f"loop0(v{2 * t}, v{2 * t + 1})"]
             for t in range(3)]
    units.append(["loop1(v0, v2, v4, v5)"])
    lines, functions = outline(units)
    assert functions == ["def repeat0(i0, w0, at0):\n"
                         "    # one of 3 repetitions of these 1 groups (the first's names)\n"
                         "    v0 = i0[at0]\n    v1 = w0\n    loop0(v0, v1)\n"]
    assert lines == ["repeat0(i0, w0, np.int64(0))", "v0 = i0[0]",
                     "repeat0(i0, w1, np.int64(1))", "v2 = i0[1]",
                     "repeat0(i0, w2, np.int64(2))", "v4 = i0[2]", "loop1(v0, v2, v4, w2)"]


def test_a_binding_that_copies_is_not_repeated():
    """A name a repetition binds and a later line reads is bound again after the call only where
    its line names a buffer or a view: a reshape may copy, at another time than in the run."""
    units = [[f"v{t} = reshaped(w{t}, (dims[0], ))", f"loop0(v{t}, i0, dims[0])"] for t in range(4)]
    units.append(["loop1(v0, v1, v2, v3, dims[0])"])
    lines, functions = outline(units)
    assert functions == [] and lines == [line for u in units for line in u]


def test_checks_and_views_alone_are_not_repeated():
    units = [[f"take1(w{t}, i0, i1, w9, True)", "if w9[0] != 0:", "    return ()"]
             for t in range(3)] + [[f"v{t} = w{t}.T"] for t in range(3)]
    lines, functions = outline(units)
    assert functions == [] and len(lines) == 12


def _rnn_step(torch, params, steps):
    wx, wh, b, wy = params

    def step(xs, y):
        h = torch.zeros(xs.shape[1], wh.shape[0], dtype=torch.float64)
        for t in range(steps):
            h = torch.tanh(xs[t] @ wx + h @ wh + b)
        loss = torch.nn.functional.cross_entropy(h @ wy, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        return loss
    return step


def compiled_rnn(monkeypatch, steps, seed=3):
    """The unrolled RNN step (float64) compiled as one native program: its compiled function,
    after checking three calls' losses and the parameters they leave against eager's. Float64,
    so compiled and eager agree to rounding: the steps' matmuls run through BLAS in both, the
    loops in the same order."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(seed)
    batch, n_in, hidden = 4, 8, 16   # matmuls of 512 MACs and more: BLAS
    values = [r.standard_normal(s) * 0.5 for s in ((n_in, hidden), (hidden, hidden), (hidden,),
                                                   (hidden, 5))]
    xs = torch.tensor(r.standard_normal((steps, batch, n_in)))
    y = torch.tensor(r.integers(0, 5, batch))
    runs = {}
    for compiled in (False, True):
        params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
        step = _rnn_step(torch, params, steps)
        fn = torch.compile(step) if compiled else step
        losses = [fn(xs, y).item() for _ in range(3)]
        runs[compiled] = losses, [p.detach().numpy().copy() for p in params], fn
    (want, want_params, _), (got, got_params, fn) = runs[False], runs[True]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    return fn


def test_unrolled_rnn_compiles_one_repeated_function_and_matches_eager(monkeypatch):
    """The weight gradients are sums over the steps, lowered to a stack of per-step parts and
    a reduction: each part is computed in its slice of the stack (native_program._stacked)."""
    steps = 4
    fn = compiled_rnn(monkeypatch, steps)
    texts = [program.native_text for _, program in fn.programs.values() if program.is_native]
    assert texts
    for text in texts:
        body = text.split("\ndef program(", 1)[1].split("\ndef program_packed(", 1)[0]
        repeated = re.findall(r"\ndef (repeat\d+)\(", text)
        # the forward cell and its backward are each one function, called once per step
        calls = sorted(len(re.findall(rf"\b{name}\(", body)) for name in repeated)
        assert len(repeated) >= 2 and calls[-1] == steps and calls[-2] >= steps - 1
        assert body.count("gemm(") < steps
        # the weight gradients' per-step parts are computed into their stack, not copied there
        assert "concat_part(" not in text and re.search(r"= w\d+\[at0\]\n", text)
