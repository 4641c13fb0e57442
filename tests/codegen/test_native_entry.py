"""A native program allocates nothing it keeps (codegen/native_program.py), so its `program_packed`
gets a machine-code entry like a loop kernel (kernels.Kernel, c_entry.py, machine_cache.py): the fast
call runs it as a builtin, and a warm process runs a hot tiny step without importing Numba.
Results are compared with eager runs."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels, machine_cache
from stepjit.codegen.native_program import ProgramSource

from ..runtime.test_fastcall import logistic_state, logistic_step, positional

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
         and os.uname().machine in ("x86_64", "aarch64")),
    reason="machine-code entries are built on CPython, x86-64 or AArch64 Linux only")


def _eager(steps):
    """B2's step (tests/runtime/test_fastcall.py: logistic_step) run eagerly: losses, w, b."""
    s = logistic_state()
    losses = [positional(logistic_step, s).item() for _ in range(steps)]
    return losses, s["w"].detach().numpy().copy(), s["b"].detach().numpy().copy()


@pytest.fixture
def fresh(fresh_kernels, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")     # native programs at once
    return fresh_kernels


def _native(fn):
    return fn.roots[-1].program.native


def test_native_program_gets_an_entry_and_matches_eager(fresh):
    want_losses, want_w, want_b = _eager(20)
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    built = kernels.STATS["entries_built"]
    losses = [positional(fn, s).item() for _ in range(20)]
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(s["w"].detach().numpy(), want_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s["b"].detach().numpy(), want_b, rtol=1e-5, atol=1e-7)
    native = _native(fn)
    assert native is not None and native.workspace, "the program's intermediates are workspace"
    assert "empty_array(" not in fn.roots[-1].program.native_text
    # The packed program runs as its entry, a builtin, not Numba's dispatcher, and the fast
    # call calls that builtin itself (PACK[2]).
    assert type(native.packed.fastest()).__name__ == "builtin_function_or_method"
    g = fn._fast[0].__globals__
    packs = [v for k, v in g.items() if k.startswith("PACK")]
    # (a pooled result's program call uses its pool's pack, fastcall.pool_choice)
    packs += [pool[3] for k, v in g.items() if k.startswith("POOL_COPY") for pool in (v, v[4], v[4][4])]
    assert any(p[2] is native.packed.fastest() for p in packs), packs
    assert kernels.STATS["entries_built"] > built
    names = os.listdir(fresh / "kernels")
    assert any(".program_packed." in n and n.endswith(".entry") for n in names), names


def test_a_native_program_compiles_one_function_and_program_only_for_unpackable_arrays(fresh):
    """The runtime runs the packed form wherever it can describe the arrays (the fast call and
    the tree walk alike), and `program_packed` holds the program's body instead of calling
    `program`: a native program compiles one function, not `program` and then `program_packed`
    linked to it and optimized again. `program` runs only for arrays packing cannot describe
    (a Fortran-ordered input), with the same results."""
    want_losses, want_w, want_b = _eager(12)
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    losses = [positional(fn, s).item() for _ in range(8)]
    native = _native(fn)
    packed_text = fn.roots[-1].program.native_text.split("\ndef program_packed(", 1)[1]
    assert "program(" not in packed_text, "program_packed calls program"
    assert native.packed.fastest() is not native.packed, "the packed form never ran"
    assert native.fn.fastest() is native.fn, "`program` ran (and was compiled) too"
    s["X"] = torch.from_numpy(np.asfortranarray(s["X"].numpy()))    # the same values
    assert not s["X"].numpy().flags.c_contiguous
    losses += [positional(fn, s).item() for _ in range(4)]
    assert native.fn.fastest() is not native.fn, "`program` did not run the unpackable call"
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(s["w"].detach().numpy(), want_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s["b"].detach().numpy(), want_b, rtol=1e-5, atol=1e-7)


def _sgd_run(compiled, calls):
    """The logistic step with torch.optim.SGD, whose lr the fast call reads on every call (a
    hyperparameter is a per-call input of the program, not baked in)."""
    s = logistic_state()
    opt = torch.optim.SGD([s["w"], s["b"]], lr=0.1)

    def step(X, y):
        p = torch.sigmoid(X @ s["w"] + s["b"])
        loss = torch.nn.functional.binary_cross_entropy(p, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    fn = torch.compile(step, backend="cpu") if compiled else step
    losses = [fn(s["X"], s["y"]).item() for _ in range(calls)]
    return fn, losses, s["w"].detach().numpy().copy()


def test_a_hyperparameter_read_per_call_keeps_the_native_program_packed(fresh):
    """The fast call passes a per-call hyperparameter (the optimizer's lr) in a buffer of its
    own, so the packed form, which the tree walk compiled, serves the fast call too: `program`
    is not compiled a second time for a new 0-dim array each call."""
    _, want, want_w = _sgd_run(False, 10)
    fn, losses, w = _sgd_run(True, 10)
    native = _native(fn)
    assert native is not None and native.packed.fastest() is not native.packed
    assert native.fn.fastest() is native.fn, "the fast call ran (and compiled) `program` too"
    np.testing.assert_allclose(losses, want, rtol=1e-5)
    np.testing.assert_allclose(w, want_w, rtol=1e-5, atol=1e-7)


def test_entry_paths_and_symbols_name_the_function():
    sig = (("int64", 1, "C", True), ("int64", 1, "C", True))
    paths = {machine_cache.entry_path("/c/p_1.py", sig, f) for f in ("program", "program_packed")}
    symbols = {machine_cache.entry_symbol("/c/p_1.py", sig, f) for f in ("program", "program_packed")}
    assert len(paths) == 2 and len(symbols) == 2
    assert all(".program" in p for p in paths)
    # A loop kernel (the module's own-named function) keeps its path.
    assert machine_cache.entry_path("/c/k_1.py", sig, "k_1") == machine_cache.entry_path("/c/k_1.py", sig)


def _tanh_step(w, returned):
    @torch.compile(backend="cpu")
    def step(x):
        h = (x @ w).tanh()
        h.sum().backward()
        return returned(h)
    return step


def _tanh_want(x, w, returned):
    return returned(np.tanh(x.numpy() @ w.detach().numpy()))


def test_a_program_given_arrays_for_its_results_runs_as_its_entry(fresh):
    """A program that returns arrays computed into buffers is given a new array for each, every
    call (NativeCall.given), and returns nothing: its packed program is its entry, a builtin,
    on the fast call as on the program's own run. Every result is the caller's to keep."""
    w = torch.tensor(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, requires_grad=True)
    step = _tanh_step(w, lambda h: h * 3.0)
    xs = [torch.tensor(np.linspace(-1, k, 12, dtype=np.float32).reshape(4, 3)) for k in range(5)]
    got = [step(x) for x in xs]
    native = _native(step)
    assert native.given == (((4, 2), np.dtype(np.float32)),)
    assert "empty_array(" not in step.roots[-1].program.native_text
    assert type(native.packed.fastest()).__name__ == "builtin_function_or_method"
    for x, g in zip(xs, got):     # each call's result unchanged by the calls after it
        np.testing.assert_allclose(g.numpy(), _tanh_want(x, w, lambda h: h * 3), rtol=1e-6)
    assert not any(np.shares_memory(a._data, b._data) for a, b in zip(got, got[1:]))
    np.testing.assert_allclose(w.grad.numpy(), sum(
        x.numpy().T @ (1 - np.tanh(x.numpy() @ w.detach().numpy()) ** 2) for x in xs),
        rtol=1e-5)


def test_a_program_returning_a_view_keeps_numbas_dispatcher(fresh):
    """An entry returns None: a program whose result is a view of what it computes is given no
    array (the view is made inside) and returns it through Numba's dispatcher."""
    w = torch.tensor(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, requires_grad=True)
    step = _tanh_step(w, lambda h: h.t())
    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    for _ in range(3):
        got = step(x)
    np.testing.assert_allclose(got.numpy(), _tanh_want(x, w, lambda h: h.T), rtol=1e-6)
    native = _native(step)
    assert native.outs and not native.given
    assert type(native.packed.fastest()).__name__ != "builtin_function_or_method"


def test_program_source_keeps_returned_values_and_their_views_per_call(fresh):
    """Workspace for what stays inside; a new array (empty_array) for what is returned and what it views."""
    w = torch.tensor(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, requires_grad=True)

    def step(x):
        h = (x @ w).sigmoid()
        h.sum().backward()
        return h.reshape(-1)

    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    fn = torch.compile(step, backend="cpu")
    fn(x)
    fn(x)
    program = fn.roots[-1].program
    outs = program.native.outs + [v for v, _ in program.native.held]
    src = ProgramSource(program.fused, program.native.ins, outs, program.inplace)
    text = src.source()
    assert src.returned and src.workspace
    # (program_packed holds the same body: count in `program`)
    program_text = text.split("\ndef program_packed(", 1)[0]
    assert program_text.count("empty_array(") == 1      # the sigmoid, which the returned reshape views


WARM = textwrap.dedent("""
    import json, sys
    from stepjit.codegen import kernels
    import stepjit as torch
    from tests.runtime.test_fastcall import logistic_state, logistic_step, positional
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    losses = [positional(fn, s).item() for _ in range(int(sys.argv[1]))]
    native = fn.roots[-1].program.native
    print(json.dumps({"losses": losses, "w": s["w"].detach().numpy().tolist(),
                      "b": s["b"].detach().numpy().tolist(), "numba": "numba" in sys.modules,
                      "native": native is not None,
                      "packed_entry": native is not None and
                          type(native.packed.fastest()).__name__ == "builtin_function_or_method",
                      **kernels.STATS}))
""")


def _run_warm(cache, calls):
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), STEPJIT_MACHINE_CACHE="1")
    env.pop("STEPJIT_NATIVE", None)      # the default: native once the trace is hot
    out = subprocess.run([sys.executable, "-c", WARM, str(calls)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_warm_process_runs_a_hot_tiny_step_without_numba(tmp_path):
    calls = 100                  # past the 64th reuse, where the program goes native
    want_losses, want_w, want_b = _eager(calls)
    cold = _run_warm(tmp_path, calls)
    assert cold["numba"] and cold["native"] and cold["packed_entry"]
    warm = _run_warm(tmp_path, calls)
    assert warm["native"] and warm["packed_entry"]
    assert not warm["numba"], "a warm process imported Numba"
    assert warm["entries_built"] == 0 and warm["entries_loaded"] == cold["entries_built"]
    for r in (cold, warm):
        np.testing.assert_allclose(r["losses"], want_losses, rtol=1e-5)
        np.testing.assert_allclose(r["w"], want_w, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(r["b"], want_b, rtol=1e-5, atol=1e-7)
    assert warm["losses"] == cold["losses"]
