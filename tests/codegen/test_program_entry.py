"""A native `program` that returns nothing is compiled straight into its machine-code entry
(codegen/program_entry.py, kernels.ProgramKernel): no CPython wrapper, no first call through
Numba's dispatcher, and the entry's object code is the one Numba emitted for the program.
Results are compared with eager runs; where the entry cannot be built the ordinary compile
(with the wrapper) runs the program."""
import os
import sys

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels, machine_cache, program_entry

from ..runtime.test_fastcall import logistic_state, logistic_step, positional

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
         and os.uname().machine in ("x86_64", "aarch64")),
    reason="machine-code entries are built on CPython, x86-64 or AArch64 Linux only")


@pytest.fixture
def fresh(fresh_kernels, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")     # native programs at once
    return fresh_kernels


def _eager(calls):
    s = logistic_state()
    losses = [positional(logistic_step, s).item() for _ in range(calls)]
    return losses, s["w"].detach().numpy().copy(), s["b"].detach().numpy().copy()


def _fortran_run(calls):
    """The logistic step on a Fortran-ordered X, which the packed form cannot describe: the
    runtime runs `program` itself (its signature holds an "F" array)."""
    s = logistic_state()
    s["X"] = torch.from_numpy(np.asfortranarray(s["X"].numpy()))
    fn = torch.compile(logistic_step, backend="cpu")
    losses = [positional(fn, s).item() for _ in range(calls)]
    return fn, losses, s


def _check(losses, s, want):
    want_losses, want_w, want_b = want
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(s["w"].detach().numpy(), want_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s["b"].detach().numpy(), want_b, rtol=1e-5, atol=1e-7)


def test_program_is_compiled_into_its_entry_without_a_numba_call(fresh):
    want = _eager(8)
    built = kernels.STATS["entries_built"]
    fn, losses, s = _fortran_run(8)
    _check(losses, s, want)
    native = fn.roots[-1].program.native
    assert isinstance(native.fn, kernels.ProgramKernel)
    assert type(native.fn.fastest()).__name__ == "builtin_function_or_method", "no entry runs it"
    # the module's own dispatcher (the one with the CPython wrapper) never compiled
    assert native.fn.checked is not None and not native.fn.checked.fn.overloads
    assert kernels.STATS["entries_built"] > built
    # (the first call's program too: it is given the arrays of the gradients it makes)
    ours = os.path.basename(native.fn.path)[:-len(".py")] + ".program."
    entries = [n for n in os.listdir(fresh / "kernels") if n.startswith(ours) and n.endswith(".entry")]
    assert len(entries) == 1
    # the stored objects reference nothing of Numba's (they came from Numba's own emission)
    for name in os.listdir(fresh / "kernels"):
        if ".program." not in name or not name.endswith(".entry"):
            continue
        with open(fresh / "kernels" / name, "rb") as f:
            obj = f.read()[len(machine_cache.MAGIC):].partition(b"\n")[2]
        undefined = machine_cache.undefined_symbols(obj)
        assert undefined and all(machine_cache.linkable(n) for n in undefined)
        assert not any(n.startswith(("numba_", "NRT_Allocate", "NRT_MemInfo_alloc"))
                       for n in undefined)


def test_where_the_entry_cannot_be_compiled_the_program_runs_with_numba(fresh, monkeypatch):
    def refuse(*args):
        raise LookupError("no entry here")

    monkeypatch.setattr(program_entry, "compile_entry", refuse)
    want = _eager(8)
    fn, losses, s = _fortran_run(8)
    _check(losses, s, want)
    native = fn.roots[-1].program.native
    # compiled with the wrapper and run by Numba; the entry then built from that overload
    assert native.fn.checked.fn.overloads
    assert type(native.fn.fastest()).__name__ == "builtin_function_or_method"


def test_the_entry_hands_other_arguments_to_numba(fresh):
    """An entry built for a Fortran X meets a C-ordered one: its fallback compiles the program
    with the wrapper, which runs it from then on, with the same results."""
    want = _eager(12)
    fn, losses, s = _fortran_run(6)
    native = fn.roots[-1].program.native
    entry = native.fn.fastest()
    assert type(entry).__name__ == "builtin_function_or_method"
    s["X"] = torch.from_numpy(np.ascontiguousarray(s["X"].numpy()))
    # the packed form now describes the arrays, but `program` has run: it stays the one function
    losses += [positional(fn, s).item() for _ in range(6)]
    _check(losses, s, want)
    assert native.fn.checked.fn.overloads, "the C-ordered call did not reach Numba"
