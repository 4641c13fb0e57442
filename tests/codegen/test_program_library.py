"""How a native program is compiled: the libraries of its loop kernels, gemm and index helpers
are linked after LLVM's module pipeline has run on the rest (codegen/program_library.py), its
arrays and reshapes are made in place (codegen/pointers.py: no carray or reshape overload
compiled per program), and the loop kernels a helper process compiled into Numba's cache from
the program's text (codegen/compile_helper.py: program_jobs) are loaded, not compiled; the
program still matches eager."""
import json
import re
import subprocess

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import compile_helper, kernels
from stepjit.codegen.native_program import INLINE_MAX_ELEMENTS
from stepjit.codegen.program_library import ProgramLibrary
from stepjit.programs.cpu import CpuProgram

N, D = 40, 40     # a tanh loop over N*D elements: a kernel the program calls, not inlines


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(the program's loss and new weight, eager's, its program_packed Kernel, the helper's
    jobs). Compiled in this process, in a cache of its own: what Numba's disk cache loads keeps
    no library structure to look at. The helper compiles the loop kernels first."""
    assert N * D > INLINE_MAX_ELEMENTS
    r = np.random.default_rng(3)
    x = torch.tensor(r.standard_normal((N, D)).astype(np.float32))
    y = torch.tensor(r.integers(0, D, N))
    w = torch.tensor((r.standard_normal((D, D)) * 0.3).astype(np.float32), requires_grad=True)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(torch.tanh(x @ w) * 2.0, y)
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    step(x, y)                                   # create .grad eagerly: the steady-state trace
    saved = dict(kernels._KERNELS)   # (as conftest's fresh_kernels: no kernel another test of
    kernels._KERNELS.clear()         # this process built, or loaded from a warm cache, reused)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEPJIT_NATIVE", "1")
        mp.setenv("STEPJIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        graph = torch.make_ir(step)(x, y)
        program = CpuProgram(graph, keep=())
        packed, _ = kernels.get_module_function(
            program.native_text[len(kernels._HEADER):], "program_packed")
        jobs = compile_helper.program_jobs(packed)
        compile_helper._write_module(packed)
        done = subprocess.run(compile_helper.command(), input=json.dumps(jobs[::-1]).encode(),
                              env=compile_helper.environment(), timeout=600)
        assert done.returncode == 0
        env = {graph.inputs[0]: x.numpy(), graph.inputs[1]: y.numpy()}
        for v, label in graph.lifted:
            env[v] = {"@w": w.detach().numpy().copy(), "@w.grad": np.zeros((D, D), np.float32)}[label]
        out = program.run(env)
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    written = dict((label, out[v]) for label, v in graph.writes)
    expected = step(x, y)                        # eager, from the same weights
    return ((out[graph.outputs[0]], written["@w"]), (expected.item(), w.detach().numpy()),
            packed, jobs)


def test_program_matches_eager(run):
    (loss, w), (loss_eager, w_eager), _, _ = run
    np.testing.assert_allclose(loss, loss_eager, rtol=1e-5)
    np.testing.assert_allclose(w, w_eager, rtol=1e-5, atol=1e-7)


def test_kernels_are_linked_after_the_module_pipeline(run):
    """program_packed links its kernel, gemm and index helpers late, and compiles none of
    numba.carray's, np.empty's or a reshape's overloads for it."""
    packed = run[2]
    assert "carray(" not in packed.text and "array_at(p, 0," in packed.text
    assert "np.empty(" not in packed.text
    # (compiled straight into its entry by a private dispatcher: kernels.ProgramKernel)
    compiled = getattr(packed, "compiled", None) or packed.checked.fn
    libraries = [cres.library for cres in compiled.overloads.values()]
    assert len(libraries) == 1
    library = libraries[0]
    assert isinstance(library, ProgramLibrary)
    late = {lib.name for lib in library._late}
    assert any(name.startswith("loop") for name in late)          # the tanh kernel
    assert "gemm" in late and any(n.startswith(("take", "put")) for n in late)
    early = {lib.name for lib in library._linking_libraries}
    assert not early & late
    assert not any(w in n for n in early for w in ("carray", "reshaped", "np_empty"))
    defined = {f.name for f in library._final_module.functions if not f.is_declaration}
    for lib in library._late:      # their code is in the program's module all the same
        assert defined & {f.name for f in lib._get_module_for_linking().functions
                          if not f.is_declaration}


def test_kernels_the_helper_compiled_are_loaded(run):
    """Every loop kernel the program calls had its signature read from the program's text, and
    the program's compile loaded each from the Numba cache the helper wrote."""
    packed, jobs = run[2], run[3]
    called = {j["function"] for j in jobs}
    assert called and all(j["numba_only"] for j in jobs)
    module = packed.checked.fn.py_func.__globals__
    for name in called:
        stats = module[name].stats
        assert stats.cache_hits and not stats.cache_misses, name
        assert len(module[name].overloads) == 1      # the signature read is the one called


def test_sizes_and_addresses_are_read_once(run):
    """The program reads each size of `dims` once, into `dim<k>`, and each array's address
    inside array_at: no `dims[k]` or `p[k]` among its lines (a static getitem each, which
    Numba types and lowers at ~1 ms apiece, native_program._sizes_named)."""
    packed = run[2]
    body = packed.text.split("\ndef program_packed(p, dims):\n", 1)[1].splitlines()
    reads = [line for line in body if "dims[" in line]
    assert reads and all(re.fullmatch(r"    dim(\d+) = dims\[\1\]", line) for line in reads)
    assert len(set(reads)) == len(reads) and not any("p[" in line for line in body)
    assert any("dim" in line and "array_at(p, " in line for line in body)


def test_kernel_arguments_not_settled_by_the_text_are_left_out():
    text = ('@njit(cache=True, no_cpython_wrapper=True)\ndef loop0(a0, o0, n0):\n    pass\n'
            '@njit(cache=True, inline="always")\ndef loop1(a0, n0):\n    pass\n'
            '@njit(cache=True)\ndef program_packed(p, dims):\n'
            '    i0 = array_at(p, 0, (dims[0], dims[1], ), np.float32)\n'
            '    w0 = array_at(p, 1, (dims[1], dims[0], ), np.float32)\n'
            '    v1 = i0.T\n'
            '    loop0(v1, w0, dims[0])\n'                     # a transpose: layout not C
            '    v2 = reshaped(w0, (dims[2], ))\n'
            '    v3 = np.empty((dims[2], ), np.float64)\n'
            '    loop0(v2, v3, dims[2])\n'
            '    loop1(i0, dims[0])\n')                        # inlined: never compiled alone
    jobs = compile_helper.program_jobs(kernels.Kernel("p_0", text, False, "program_packed"))
    assert [(j["function"], j["sig"]) for j in jobs] == [
        ("loop0", (("float32", 1, "C", True), ("float64", 1, "C", True), "i"))]



def test_a_per_call_allocation_is_never_outlined():
    """A returned value's array is made per call by `empty_array` (a caller keeps it): a
    repeated run holding one is not made a function (codegen/repeats.py)."""
    from stepjit.codegen.repeats import _eligible
    assert _eligible(["v1 = w0", "loop0(v1, i0, dims[0])"])
    assert not _eligible(["v1 = empty_array((dims[0], ), np.float32)", "loop0(v1, i0, dims[0])"])

