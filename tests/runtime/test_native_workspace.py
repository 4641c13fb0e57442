"""A native program's intermediates are workspace buffers the runtime keeps (cpu.NativeCall,
codegen/native_program.py); what a call returns is still a new array every call, and arguments the
program's entries were not built for (not contiguous, misaligned) still give eager's results."""
import numpy as np
import pytest

import stepjit as torch

from .helpers import assert_same, snapshot
from .test_fastcall import logistic_state, logistic_step, positional

BUILTIN = "builtin_function_or_method"


@pytest.fixture
def native(fresh_kernels, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")     # native programs at once


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


def _inputs(values):
    """The same values as a C array, a strided view and a misaligned array."""
    strided = np.zeros((values.shape[0], 2 * values.shape[1]), values.dtype)
    strided[:, ::2] = values
    raw = np.zeros(values.nbytes + 1, np.uint8)
    misaligned = np.frombuffer(raw.data, values.dtype, values.size, offset=1).reshape(values.shape)
    misaligned[...] = values
    assert not misaligned.flags.aligned and not strided[:, ::2].flags.c_contiguous
    return {"c": values, "strided": strided[:, ::2], "misaligned": misaligned}


def _logistic_run(step, order):
    """Snapshots of logistic_step over 5 calls per kind of X array in `order`."""
    s = logistic_state()
    inputs = {k: torch.from_numpy(a) for k, a in _inputs(s["X"].numpy().copy()).items()}
    state = [s["w"], s["b"]]
    out = []
    for kind in order:
        s["X"] = inputs[kind]
        out += [snapshot(positional(step, s), state) for _ in range(5)]
    return out


@pytest.mark.parametrize("order", [("strided", "c", "misaligned", "c"),
                                   ("c", "misaligned", "strided", "c")])
def test_arguments_the_entries_were_not_built_for(native, order):
    eager = _logistic_run(logistic_step, order)
    fn = torch.compile(logistic_step, backend="cpu")
    got = _logistic_run(fn, order)
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
    """The program run as the tree walk runs it (CpuProgram.run): C arrays through the packed
    form (its entry); a strided argument, which packing cannot describe, through `program`,
    with the same results."""
    s = logistic_state()
    x = _inputs(s["X"].numpy().copy())
    fn = torch.compile(logistic_step, backend="cpu")
    for _ in range(3):
        positional(fn, s)
    program = fn.roots[-1].program
    call = program.native
    values = {"@" + v.name: v for v in program.source_graph.inputs}
    values.update({label: v for v, label in program.source_graph.lifted})
    arrays = {label: t.detach().numpy() for label, t in
              [("@w", s["w"]), ("@b", s["b"]), ("@y", s["y"]), ("@w.grad", s["w"].grad),
               ("@b.grad", s["b"].grad)]}
    outs = []
    for kind in ("c", "strided", "c"):
        env = {v: (x[kind] if label == "@X" else arrays[label].copy())
               for label, v in values.items()}
        out = program.run(env)
        outs.append([np.array(out[v]) for v in program.source_graph.outputs])
        if len(outs) == 1:
            assert type(call.packed.fastest()).__name__ == BUILTIN   # the packed entry
            assert call.fn.fastest() is call.fn                      # `program` never ran
        elif len(outs) == 2:
            assert call.fn.fastest() is not call.fn     # the strided X went to `program`
    for a, b in zip(outs[0], outs[1]):
        assert_same(a, b)
    for a, b in zip(outs[0], outs[2]):
        assert_same(a, b)
