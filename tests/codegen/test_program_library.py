"""How a native program is compiled (codegen/program_library.py, codegen/pointers.py): the
libraries of its loop kernels, gemm and index helpers are linked after LLVM's module pipeline
has run on the rest (not optimized a second time), and its arrays and reshapes are made in
place (no carray or reshape overload compiled per program); the program still matches eager."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels
from stepjit.codegen.native_program import INLINE_MAX_ELEMENTS
from stepjit.codegen.program_library import ProgramLibrary

N, D = 40, 40     # a tanh loop over N*D elements: a kernel the program calls, not inlines


def step(x, y, w):
    loss = torch.nn.functional.cross_entropy(torch.tanh(x @ w) * 2.0, y)
    loss.backward()
    with torch.no_grad():
        w.sub_(0.1 * w.grad)
        w.grad = None
    return loss


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(losses compiled, losses eager, w compiled, w eager, the native programs' module texts),
    compiled in this process (a cache of its own): what Numba's disk cache loads keeps no
    library structure to look at."""
    assert N * D > INLINE_MAX_ELEMENTS
    r = np.random.default_rng(3)
    x = torch.tensor(r.standard_normal((N, D)).astype(np.float32))
    y = torch.tensor(r.integers(0, D, N))
    w0 = (r.standard_normal((D, D)) * 0.3).astype(np.float32)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEPJIT_NATIVE", "1")
        mp.setenv("STEPJIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        w = torch.tensor(w0.copy(), requires_grad=True)
        fn = torch.compile(step, backend="cpu")
        got = [fn(x, y, w).item() for _ in range(3)]
    w_eager = torch.tensor(w0.copy(), requires_grad=True)
    want = [step(x, y, w_eager).item() for _ in range(3)]
    texts = [p.native_text for _, p in fn.programs.values() if p.is_native]
    return got, want, w.detach().numpy(), w_eager.detach().numpy(), texts


def test_program_matches_eager(run):
    got, want, w, w_eager, texts = run
    assert texts
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(w, w_eager, rtol=1e-5, atol=1e-7)


def test_kernels_are_linked_after_the_module_pipeline(run):
    """program_packed links its kernel, gemm and index helpers late, and compiles neither
    numba.carray's overload nor a reshape overload for it."""
    libraries = []
    for text in run[4]:
        assert "carray(" not in text and "array_at(p[0]" in text
        kernel, _ = kernels.get_module_function(text[len(kernels._HEADER):], "program_packed")
        libraries += [cres.library for cres in kernel.checked.fn.overloads.values()]
    assert libraries
    for library in libraries:
        assert isinstance(library, ProgramLibrary)
        late = {lib.name for lib in library._late}
        assert any(name.startswith("loop") for name in late)          # the tanh kernel
        assert "gemm" in late and any(n.startswith(("take", "put")) for n in late)
        early = {lib.name for lib in library._linking_libraries}
        assert not early & late
        assert not any("carray" in n or "reshaped" in n for n in early)
        defined = {f.name for f in library._final_module.functions if not f.is_declaration}
        for lib in library._late:      # their code is in the program's module all the same
            assert defined & {f.name for f in lib._get_module_for_linking().functions
                              if not f.is_declaration}
