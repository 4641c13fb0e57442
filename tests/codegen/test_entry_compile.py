"""A loop kernel whose first call can have a machine-code entry is compiled for that entry
alone (codegen/entry_compile.py): Numba's dispatcher compiles nothing, the entry runs the call
and later ones, a later process loads it; arguments it was not built for, and kernels that
cannot have an entry, go to the dispatcher, with NumPy's results."""
import os
import sys

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels, machine_cache

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
         and os.uname().machine in ("x86_64", "aarch64")),
    reason="machine-code entries are built on CPython, x86-64 or AArch64 Linux only")

AXPY = """def {name}(a0, a1, o0, n0):
    for i0 in range(n0):
        t0 = a0[i0]
        t1 = a1[i0]
        o0[i0] = np.float32(t0 * np.float32(3.0) + t1)
"""


def _axpy(a, b):
    return (a * np.float32(3.0) + b).astype(np.float32)


def _stats():
    return dict(kernels.STATS)


def test_first_call_compiles_the_entry_alone(fresh_kernels):
    kernel, _ = kernels.get_kernel(lambda name: AXPY.format(name=name), parallel=False)
    a = np.linspace(-1, 1, 37, dtype=np.float32)
    b = np.linspace(2, 5, 37, dtype=np.float32)
    out = np.empty(37, np.float32)
    before = _stats()
    kernel(a, b, out, 37)
    np.testing.assert_array_equal(out, _axpy(a, b))
    assert kernels.STATS["compiled"] == before["compiled"] + 1
    assert kernels.STATS["entries_built"] == before["entries_built"] + 1
    dispatcher = kernel.checked.fn
    assert len(dispatcher.overloads) == 0, "Numba's dispatcher compiled the kernel"
    assert kernel.fastest() is not dispatcher and kernel.fastest() is not kernel
    # later calls run the entry: other values, still no overload
    kernel(b, a, out, 37)
    np.testing.assert_array_equal(out, _axpy(b, a))
    assert len(dispatcher.overloads) == 0
    # arguments the entry was not built for (strided views) go to the dispatcher
    a2, b2 = np.linspace(0, 1, 74, dtype=np.float32), np.linspace(1, 3, 74, dtype=np.float32)
    kernel(a2[::2], b2[::2], out, 37)
    np.testing.assert_array_equal(out, _axpy(a2[::2], b2[::2]))
    assert len(dispatcher.overloads) == 1
    # a later process (a new Kernel for the same module) loads the stored entry
    again = kernels.Kernel(kernel.fname, kernel.text, False)
    loaded, compiled = kernels.STATS["entries_loaded"], kernels.STATS["compiled"]
    again(a, b, out, 37)
    np.testing.assert_array_equal(out, _axpy(a, b))
    assert kernels.STATS["entries_loaded"] == loaded + 1
    assert kernels.STATS["compiled"] == compiled


RETURNS = """def {name}(a0, n0):
    acc = np.float32(0.0)
    for i0 in range(n0):
        acc += a0[i0]
    return acc
"""


def test_a_kernel_that_cannot_have_an_entry_runs_on_numba(fresh_kernels):
    kernel, _ = kernels.get_kernel(lambda name: RETURNS.format(name=name), parallel=False)
    a = np.arange(10, dtype=np.float32)
    refused = kernels.STATS["entries_refused"]
    assert kernel(a, 10) == 45.0
    assert kernels.STATS["entries_refused"] == refused + 1
    assert len(kernel.checked.fn.overloads) == 1
    path = machine_cache.entry_path(kernel.path, machine_cache.signature((a, 10)))
    assert not os.path.exists(path)
    assert kernel(a, 5) == 10.0


def test_compiled_step_runs_its_kernels_through_entries(fresh_kernels):
    """A training step's loop kernels are compiled for their entries alone, and the step
    matches eager."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    w0 = rng.standard_normal((5, 3)).astype(np.float32)

    def make():
        w = torch.tensor(w0.copy(), requires_grad=True)

        def step(x):
            loss = ((x @ w).tanh() * 0.5 + 0.1).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad.zero_()
            return loss
        return w, step

    w_eager, eager = make()
    w_comp, step = make()
    compiled = torch.compile(step, backend="cpu")
    before = _stats()
    for _ in range(3):
        np.testing.assert_allclose(compiled(torch.tensor(x)).item(),
                                   eager(torch.tensor(x)).item(), rtol=1e-5)
    np.testing.assert_allclose(w_comp.detach().numpy(), w_eager.detach().numpy(), rtol=1e-5,
                               atol=1e-7)
    built = kernels.STATS["entries_built"] - before["entries_built"]
    assert built > 0 and kernels.STATS["compiled"] - before["compiled"] == built
    loop_kernels = [k for k, _ in kernels._KERNELS.values()
                    if isinstance(k, kernels.Kernel) and k.fname.startswith("k_")]
    assert loop_kernels and all(len(k.checked.fn.overloads) == 0 for k in loop_kernels
                                if k.checked is not None)


FLAT = """def {name}(a0, a1, o0, n0, n1):
    if a0.flags.c_contiguous and a1.flags.c_contiguous and o0.flags.c_contiguous:
        n = n0 * n1
        a0f = c_view(a0, (n,))
        a1f = c_view(a1, (n,))
        o0f = c_view(o0, (n,))
        for i in range(n):
            o0f[i] = np.float32(a0f[i] - a1f[i])
        return
    for i0 in range(n0):
        for i1 in range(n1):
            o0[i0, i1] = np.float32(a0[i0, i1] - a1[i0, i1])
"""


def test_an_entry_of_c_contiguous_arrays_compiles_the_flat_loop_only(fresh_kernels):
    """The flat loop's test is True for an entry that takes every array it tests C-contiguous:
    the loop nest after it is not compiled; strided arrays still run the nest (on Numba)."""
    from stepjit.codegen import entry_compile
    kernel, _ = kernels.get_kernel(lambda name: FLAT.format(name=name), parallel=False)
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    out = np.empty((3, 4), np.float32)
    kernel(a, b, out, 3, 4)
    np.testing.assert_array_equal(out, a - b)
    py_func = kernel.checked.fn.py_func
    contiguous = machine_cache.signature((a, b, out, 3, 4))
    flat = entry_compile.specialized(py_func, kernel.text, contiguous)
    assert flat is not py_func
    loops = [i for i in __import__("dis").get_instructions(flat) if i.opname == "FOR_ITER"]
    assert len(loops) == 1, "the loop nest was kept"
    strided = machine_cache.signature((a.T, b, out, 3, 4))
    assert entry_compile.specialized(py_func, kernel.text, strided) is py_func
    # the entry runs C-contiguous arrays; transposed ones take the full kernel on Numba
    out2 = np.empty((4, 3), np.float32).T
    kernel(a.T.copy().T, b, out2, 3, 4)
    np.testing.assert_array_equal(out2, a - b)
    assert len(kernel.checked.fn.overloads) == 1


def test_compile_result_is_an_optimized_module_and_no_machine_code(fresh_kernels):
    """entry_compile.compile_result: no overload on the dispatcher, no JIT'd code, no CPython
    wrapper in the module, and Numba's IR rewrites skipped."""
    from stepjit.codegen import entry_compile
    kernel, _ = kernels.get_kernel(lambda name: AXPY.format(name=name), parallel=False)
    with kernels._LOCK:
        kernel.checked = kernels._load(kernel.fname, kernel.text)
    dispatcher = kernel.checked.fn
    a = np.zeros(4, np.float32)
    argtypes = tuple(dispatcher.typeof_pyval(x) for x in (a, a, a, 4))
    cres = entry_compile.compile_result(dispatcher, argtypes)
    assert isinstance(cres.library, entry_compile.module_library()) and cres.entry_point is None
    assert len(dispatcher.overloads) == 0
    defined = [f.name for f in cres.library.get_defined_functions()]
    assert cres.fndesc.mangled_name in defined
    assert not any(name.startswith("cpython.") for name in defined)
    assert not any("rewrites" in name for name in cres.metadata["pipeline_times"]["nopython"])


ALLOCATES = """def {name}(a0, o0, n0):
    t = np.empty(n0, np.float32)
    for i0 in range(n0):
        t[i0] = a0[i0] * np.float32(2.0)
    for i0 in range(n0):
        o0[i0] = t[i0]
"""


def test_compile_result_lowers_no_reference_counting(fresh_kernels):
    """A kernel compiled for its entry is compiled without Numba's runtime (its arrays are
    borrowed: no incref/decref lowered); one that allocates cannot be, and runs on Numba's
    dispatcher with the same values."""
    from stepjit.codegen import entry_compile
    kernel, _ = kernels.get_kernel(lambda name: AXPY.format(name=name), parallel=False)
    with kernels._LOCK:
        kernel.checked = kernels._load(kernel.fname, kernel.text)
    dispatcher = kernel.checked.fn
    a = np.zeros(4, np.float32)
    cres = entry_compile.compile_result(dispatcher, tuple(dispatcher.typeof_pyval(x)
                                                          for x in (a, a, a, 4)))
    assert not cres.target_context.enable_nrt
    kernel, _ = kernels.get_kernel(lambda name: ALLOCATES.format(name=name), parallel=False)
    a = np.linspace(-1, 1, 9, dtype=np.float32)
    out = np.empty(9, np.float32)
    kernel(a, out, 9)
    np.testing.assert_array_equal(out, a * np.float32(2.0))
    assert len(kernel.checked.fn.overloads) == 1      # the dispatcher compiled it


def test_a_strided_first_call_compiles_its_entry_with_the_contiguity_test(fresh_kernels):
    """A first call with a strided array keeps the flat loop's `.flags` test, which Numba lowers
    only with its runtime: the entry is compiled with it, not left to the dispatcher's compile
    (three machine-code emissions; W7's pooling kernels), with NumPy's values."""
    kernel, _ = kernels.get_kernel(lambda name: FLAT.format(name=name), parallel=False)
    a = np.arange(12, dtype=np.float32).reshape(4, 3).T
    b = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    out = np.empty((3, 4), np.float32)
    kernel(a, b, out, 3, 4)
    np.testing.assert_array_equal(out, a - b)
    assert len(kernel.checked.fn.overloads) == 0, "the dispatcher compiled the kernel"
    c = np.ones((3, 4), np.float32)       # C-contiguous now: the same entry's flat loop
    kernel(c, b, out, 3, 4)
    np.testing.assert_array_equal(out, c - b)
