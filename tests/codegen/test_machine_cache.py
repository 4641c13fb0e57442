"""The machine-code cache (codegen/machine_cache.py, c_entry.py): a warm process runs its kernels
without importing Numba, with the results Numba gives; a corrupt, truncated or stale entry is
never used; arguments an entry was not built for (strides, dtype, read-only) run correctly."""
import os
import sys

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels, machine_cache

from .test_kernel_cache import _eager
from .test_kernel_cache import _run as run_script

# Where entries are built (machine_cache.available): CPython on x86-64 or AArch64 Linux.
pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
         and os.uname().machine in ("x86_64", "aarch64")),
    reason="machine-code entries are built on CPython, x86-64 or AArch64 Linux only")


def test_available_here():
    assert machine_cache.available(), "machine-code entries are off (layout check failed?)"

def _run(cache):
    return run_script(cache, {"STEPJIT_MACHINE_CACHE": "1"})


def _entries(cache):
    d = cache / "kernels"
    return sorted(d / f for f in os.listdir(d) if f.endswith(".entry"))


def test_warm_process_runs_without_numba_and_bad_entries_are_rebuilt(tmp_path):
    losses, w = _eager()
    cold = _run(tmp_path)
    assert cold["numba"] and cold["entries_built"] > 0
    warm = _run(tmp_path)
    assert not warm["numba"], "a warm process imported Numba"
    assert warm["entries_loaded"] == cold["entries_built"] and warm["compiled"] == 0
    for r in (cold, warm):
        np.testing.assert_allclose(r["losses"], losses, rtol=1e-5)
        np.testing.assert_allclose(r["w"], w, rtol=1e-5, atol=1e-7)
    # Truncate one entry and flip a byte of the object code in the others: none is used,
    # each is rebuilt, and the results stay those of Numba.
    files = _entries(tmp_path)
    with open(files[0], "r+b") as f:
        f.truncate(os.path.getsize(files[0]) // 2)
    for p in files[1:]:
        data = bytearray(p.read_bytes())
        data[-100] ^= 0xFF
        p.write_bytes(bytes(data))
    rebuilt = _run(tmp_path)
    assert rebuilt["entries_loaded"] == 0 and rebuilt["entries_built"] == cold["entries_built"]
    np.testing.assert_allclose(rebuilt["losses"], losses, rtol=1e-5)
    assert not _run(tmp_path)["numba"]


def _kernel(tag):
    """A fresh kernel (its own source, so no other test shares it): o0 = a0 * a1 + tag."""
    def source(fname):
        return (f"def {fname}(a0, a1, o0, n0, n1):\n"
                "    for i0 in range(n0):\n"
                "        for i1 in range(n1):\n"
                f"            o0[i0, i1] = a0[i0, i1] * a1[0, i1] + {float(tag)!r}\n")
    return kernels.get_kernel(source, False)[0]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    return tmp_path


def _check(k, a0, a1, tag):
    out = np.zeros(a0.shape, a0.dtype)
    k(a0, a1, out, *a0.shape)
    np.testing.assert_array_equal(out, a0 * a1[:1] + np.asarray(tag, a0.dtype))


def test_strided_and_transposed_arguments(cache):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    k = _kernel(1.5)
    built = kernels.STATS["entries_built"]
    _check(k, base.T, np.arange(4, dtype=np.float32)[None, :], 1.5)   # F layout
    assert kernels.STATS["entries_built"] == built + 1
    assert type(k.call).__name__ == "builtin_function_or_method"       # the entry, from now on
    _check(k, base[:, ::2].T.copy(order="F"), np.ones((1, 4), np.float32), 1.5)
    # Arguments the entry was not built for go to Numba, with Numba's results.
    _check(k, base[::2, ::2], np.full((1, 3), 2, np.float32), 1.5)     # A layout
    assert type(k.call).__name__ != "builtin_function_or_method"
    k2 = _kernel(2.5)
    _check(k2, base[:, ::2], np.arange(3, dtype=np.float32)[None, :], 2.5)   # A layout entry
    _check(k2, base[1:, 1::2], np.arange(3, dtype=np.float32)[None, :], 2.5)
    _check(k2, base[::-1, ::-2], np.ones((1, 3), np.float32), 2.5)            # negative strides
    assert type(k2.call).__name__ == "builtin_function_or_method"
    ro = base[:, ::2].copy()          # read-only where the entry saw a writable array: Numba
    ro.flags.writeable = False
    _check(k2, ro, np.ones((1, 3), np.float32), 2.5)
    assert type(k2.call).__name__ != "builtin_function_or_method"


def test_dtype_readonly_and_int_mismatches_fall_back(cache):
    k = _kernel(3.5)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    _check(k, a, np.ones((1, 3), np.float32), 3.5)
    entry = k.call
    out = np.zeros((2, 3), np.float32)
    entry(a, np.ones((1, 3), np.float32), out, 2, 3)         # the entry itself, as built
    np.testing.assert_array_equal(out, a + np.float32(3.5))
    with pytest.raises(OverflowError):
        entry(a, np.ones((1, 3), np.float32), out, 2, 2 ** 70)
    _check(k, a.astype(np.float64), np.ones((1, 3)), 3.5)   # another dtype: Numba's overload
    k = _kernel(4.5)
    _check(k, a, np.ones((1, 3), np.float32), 4.5)
    ro_out = np.zeros((2, 3), np.float32)
    ro_out.flags.writeable = False
    with pytest.raises(Exception):                       # Numba refuses to write it, as before
        k.call(a, np.ones((1, 3), np.float32), ro_out, 2, 3)
    assert not ro_out.any()


def test_stale_or_foreign_entries_are_not_used(cache, monkeypatch):
    k = _kernel(5.5)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    args = (a, np.ones((1, 3), np.float32), np.zeros((2, 3), np.float32), 2, 3)
    k(*args)
    sig = machine_cache.signature(args)
    path = machine_cache.entry_path(k.path, sig)
    assert machine_cache.read(path, sig, k._identity(sig)) is not None
    # Another CPU (or Numba, llvmlite, ...) names another file, so this one is not found...
    with monkeypatch.context() as m:
        m.setitem(machine_cache._STATE, "env", dict(machine_cache.environment(), cpu="some-other-cpu"))
        assert machine_cache.entry_path(k.path, sig) != path
        # ...and a file that claims it is for another environment is refused and deleted.
        assert machine_cache.read(path, sig, k._identity(sig)) is None and not os.path.exists(path)
    assert machine_cache.load(path, sig, None, k._identity(sig)) is None
    # The wrong signature for a file is refused too.
    k2 = _kernel(6.5)
    k2(*args)
    path2 = machine_cache.entry_path(k2.path, sig)
    other = (("float64",) + sig[0][1:],) + sig[1:]
    assert machine_cache.read(path2, other, k2._identity(other)) is None


def test_undefined_symbols_are_read_from_the_object():
    assert machine_cache.linkable("PyLong_AsLongLong") and machine_cache.linkable("NRT_Free")
    assert not machine_cache.linkable("NRT_MemInfo_alloc_aligned")
    assert not machine_cache.linkable("stepjit_no_such_symbol")
    with pytest.raises(ValueError):
        machine_cache.undefined_symbols(b"not an object file")


def test_compiled_step_uses_entries(cache):
    w = torch.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), requires_grad=True)

    @torch.compile(backend="cpu")
    def step(x):
        loss = ((x @ w).relu() * 7.25).sum()
        loss.backward()
        return loss

    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    before = kernels.STATS["entries_built"]
    got = [step(x).item() for _ in range(2)]
    assert kernels.STATS["entries_built"] > before
    want = float(((x.numpy() @ w.detach().numpy()).clip(0) * np.float32(7.25)).sum())
    np.testing.assert_allclose(got, [want, want], rtol=1e-6)


_OUTLIVE = """
import ctypes, gc
from stepjit.codegen import machine_cache
target = ctypes.cast(ctypes.CDLL(None).labs, ctypes.c_void_p).value    # never called
made = [machine_cache._builtin(target, f"stepjit_entry_{k}", None) for k in range(100)]
for name in list(vars(machine_cache)):          # interpreter exit clears module globals
    if not name.startswith("__") and name != "_builtin":
        delattr(machine_cache, name)
gc.collect()
reuse = [bytearray(b"\\xff" * 24) for _ in range(20000)]   # takes freed small blocks
print(sum(f.__name__ != f"stepjit_entry_{k}" for k, f in enumerate(made)))
del made
"""


def test_an_entrys_builtin_outlives_the_module_that_made_it():
    """At interpreter exit a module's globals go before objects other modules hold: an entry
    builtin must not read a method definition its module owned (that segfaulted at exit)."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", _OUTLIVE], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert out.stdout.split() == ["0"], out.stdout
