"""A native program's intermediates are workspace buffers the runtime keeps (cpu.NativeCall,
codegen/program.py); what a call returns is still a new array every call, and arguments the
program's entries were not built for (not contiguous, misaligned) still give eager's results."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels
from stepjit.runtime import tree

from .helpers import assert_same, snapshot

BUILTIN = "builtin_function_or_method"


@pytest.fixture
def native(tmp_path, monkeypatch):
    """Native programs at once, in an empty kernel cache, with no program built before."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    saved = dict(kernels._KERNELS)
    kernels._KERNELS.clear()
    tree.clear_programs()
    yield
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    tree.clear_programs()


def _returning():
    w = torch.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), requires_grad=True)

    def step(x):
        h = (x @ w).sigmoid()
        loss = (h * h).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.5 * w.grad)
            w.grad.zero_()
        # returned: a view of an intermediate, a transposed intermediate, a new value
        return loss, h.reshape(-1), (h * 2.0).t(), h + 1.0
    return step, [w]


def test_returned_values_are_new_arrays_every_call(native):
    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    step, state = _returning()
    eager = [snapshot(step(x), state) for _ in range(6)]
    step, state = _returning()
    fn = torch.compile(step, backend="cpu")
    results = [fn(x) for _ in range(6)]
    got = [snapshot(r, state) for r in results]   # (state: only the last is compared)
    assert fn.roots[-1].program.native is not None
    for e, c in zip(eager, got):
        for a, b in zip(e[0], c[0]):
            assert_same(a, b, exact=False)
    assert_same(eager[-1][1][0], got[-1][1][0], exact=False)
    # The results a user kept from two calls: other values, in arrays of their own.
    for earlier, later in zip(results, results[1:]):
        for a, b in zip(earlier, later):
            assert not np.shares_memory(a.numpy(), b.numpy())
            assert not np.array_equal(a.numpy(), b.numpy())
    for k, c in enumerate(got):         # still what each call returned, after later calls
        for a, b in zip(c[0], [t.numpy() for t in results[k]]):
            assert_same(a, b)


def _logistic():
    w = torch.from_numpy(np.array([[0.1], [-0.2]], np.float32)).requires_grad_()
    b = torch.from_numpy(np.array([0.05], np.float32)).requires_grad_()
    y = torch.from_numpy(np.array([[1.0], [0.0], [1.0], [0.0]], np.float32))
    F = torch.nn.functional

    def step(X):
        nonlocal w, b      # `w -= ...` rebinds the name (to the same tensor)
        p = torch.sigmoid(X @ w + b)
        loss = F.binary_cross_entropy(p, y)
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return loss
    return step, [w, b]


def _inputs():
    """The same 4x2 values as a C array, a strided view and a misaligned array."""
    values = np.array([[0.5, 1.0], [-1.5, 0.3], [2.0, -0.7], [-0.2, -1.1]], np.float32)
    strided = np.zeros((4, 4), np.float32)
    strided[:, ::2] = values
    raw = np.zeros(values.nbytes + 1, np.uint8)
    misaligned = np.frombuffer(raw.data, np.float32, values.size, offset=1).reshape(4, 2)
    misaligned[...] = values
    assert not misaligned.flags.aligned and not strided[:, ::2].flags.c_contiguous
    return {"c": values, "strided": strided[:, ::2], "misaligned": misaligned}


@pytest.mark.parametrize("order", [("strided", "c", "misaligned", "c"),
                                   ("c", "misaligned", "strided", "c")])
def test_arguments_the_entries_were_not_built_for(native, order):
    inputs = {k: torch.from_numpy(a) for k, a in _inputs().items()}
    calls = [kind for kind in order for _ in range(5)]
    step, state = _logistic()
    eager = [snapshot(step(inputs[kind]), state) for kind in calls]
    step, state = _logistic()
    fn = torch.compile(step, backend="cpu")
    got = [snapshot(fn(inputs[kind]), state) for kind in calls]
    for e, c in zip(eager, got):
        for part in range(3):
            for a, b in zip(e[part], c[part]):
                assert_same(a, b, exact=False)
    call = fn.roots[-1].program.native
    assert type(call.packed.fastest()).__name__ == BUILTIN    # the C arrays' way
    # The arrays the packed entry cannot take ran the plain program, whose entry (built for
    # the first such call's arrays) handed the misaligned ones to Numba, which keeps it.
    assert type(call.fn.fastest()).__name__ != BUILTIN


def test_plain_program_entry_falls_back_for_other_layouts(native):
    """The plain program called directly (CpuProgram.run, as the tree walk calls it): its entry
    is built for the first call's C arrays; a strided argument is handed to Numba, with the
    same results."""
    x = _inputs()
    step, state = _logistic()
    fn = torch.compile(step, backend="cpu")
    for _ in range(3):
        fn(torch.from_numpy(x["c"]))
    program = fn.roots[-1].program
    call = program.native
    values = {"@" + v.name: v for v in program.source_graph.inputs}
    values.update({label: v for v, label in program.source_graph.lifted})
    w, b = state
    arrays = {"@X": None, "@w": w.detach().numpy(), "@b": b.detach().numpy(),
              "@w.grad": w.grad.numpy(), "@b.grad": b.grad.numpy(),
              "@y": np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)}
    outs = []
    for kind in ("c", "strided", "c"):
        env = {v: (x[kind] if label == "@X" else arrays[label].copy())
               for label, v in values.items()}
        out = program.run(env)
        outs.append([np.array(out[v]) for v in program.source_graph.outputs])
        if len(outs) == 1:
            assert type(call.fn.fastest()).__name__ == BUILTIN   # built for the C arrays
    assert type(call.fn.fastest()).__name__ != BUILTIN      # Numba keeps it after the strided X
    for a, b in zip(outs[0], outs[1]):
        assert_same(a, b)
    for a, b in zip(outs[0], outs[2]):
        assert_same(a, b)
