"""Native programs call BLAS's gemm for their float matmuls (codegen/blas.py finds it,
codegen/gemm.py calls it): a step with a matmul too large for generated loops (the tutorial's
two-layer step) runs as one native program, and still matches eager; operands BLAS can't read
in place (strided, broadcast) run the loops and match NumPy."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import blas
from stepjit.codegen.native_program import BLAS_MIN_MACS, MAX_MATMUL_MACS
from stepjit.runtime import tree

from ..regression.test_examples import load_example

needs_blas = pytest.mark.skipif(blas.gemm() is None, reason="no BLAS gemm found beside NumPy")

# Two-layer shapes whose first matmul is too large for a native program without BLAS.
N, D_IN, H, D_OUT = 16, 80, 64, 4
assert N * D_IN * H > MAX_MATMUL_MACS and H * N * D_OUT >= BLAS_MIN_MACS


@pytest.fixture
def native_now(monkeypatch):
    """Programs go native as soon as they are built, and none is shared with another test
    (a program is shared by structure, whatever STEPJIT_BLAS was when it was built)."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    tree.clear_programs()
    yield
    tree.clear_programs()


def two_layer_state(dtype):
    rng = np.random.default_rng(5)
    x, y, w1, w2 = (torch.from_numpy(rng.standard_normal(s).astype(dtype))
                    for s in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT)))
    return x, y, w1.requires_grad_(), w2.requires_grad_()


# The tutorial's step (examples/two_layer_net.py: custom ReLU Function, SGD under no_grad).
two_layer_step = load_example("two_layer_net").step


def _train(step, dtype, steps=20):
    x, y, w1, w2 = two_layer_state(dtype)
    losses = [step(x, y, w1, w2, 1e-4).item() for _ in range(steps)]
    return losses, w1.detach().numpy().copy(), w2.detach().numpy().copy()


def _program(fn):
    return fn.roots[-1].program


@needs_blas
def test_blas_is_numpys_own_library():
    found = blas.gemm()
    assert found.sgemm and found.dgemm and found.int_bits in (32, 64)
    config = np.__config__.CONFIG["Build Dependencies"]["blas"]
    if config.get("name") == "scipy-openblas":        # NumPy's wheels: the bundled OpenBLAS
        assert "openblas" in found.library and found.int_bits == (64 if "64" in found.library else 32)


@needs_blas
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_large_matmul_step_runs_native_through_blas_and_matches_eager(native_now, dtype, rtol):
    want = _train(two_layer_step, dtype)
    fn = torch.compile(two_layer_step, backend="cpu")
    got = _train(fn, dtype)
    program = _program(fn)
    assert program.native is not None, "the step with a large matmul is one native program"
    text = program.native_text
    body = text.split("\ndef program_packed(", 1)[0]     # (program_packed holds the same body)
    assert body.count("gemm(as_any(") == 5 and "empty_array(" not in text
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-2)
    # It allocates nothing, so the packed program runs as a machine-code entry.
    packed = program.native.packed.fastest()
    assert type(packed).__name__ == "builtin_function_or_method"


def test_without_blas_a_large_matmul_keeps_the_step_off_native(native_now, monkeypatch):
    monkeypatch.setenv("STEPJIT_BLAS", "0")
    assert blas.gemm() is None
    want = _train(two_layer_step, np.float32, steps=3)
    fn = torch.compile(two_layer_step, backend="cpu")
    got = _train(fn, np.float32, steps=3)
    assert _program(fn).native is None
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


def layouts(a, d, c, e, z):
    return (a.T @ a[:, :16],           # A read transposed (TRANS)
            a @ d.T,                   # B read transposed
            a[:, 4:20] @ c,            # A's rows strided by 32: NO_TRANS, lda 32
            a[:, ::2] @ c,             # A's columns strided: the loops
            e.expand(24, 32) @ d.T,    # a broadcast operand (stride 0): the loops
            z @ d.T)                   # one row


@needs_blas
@pytest.mark.parametrize("contiguous", [True, False])
def test_operand_layouts_match_numpy(native_now, contiguous):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((24, 32), (16, 32), (16, 40), (1, 32), (1, 32))]
    if not contiguous:      # an input that is itself a transposed view: passed unpacked
        arrays[0] = np.ascontiguousarray(arrays[0].T).T
    fn = torch.compile(layouts, backend="cpu")
    got = fn(*(torch.from_numpy(a) for a in arrays))
    assert _program(fn).native is not None and "gemm(as_any(" in _program(fn).native_text
    a, d, c, e, z = (x.astype(np.float64) for x in arrays)
    want = (a.T @ a[:, :16], a @ d.T, a[:, 4:20] @ c, a[:, ::2] @ c,
            np.broadcast_to(e, (24, 32)) @ d.T, z @ d.T)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-5)
    # Where BLAS reads the operands in place, the result is NumPy's own float32 matmul, bit
    # for bit (the same gemm, called the same way); the loops would round otherwise.
    a, d, c, e, z = arrays
    for g, w in zip(got[:3], (a.T @ a[:, :16], a @ d.T, a[:, 4:20] @ c)):
        np.testing.assert_array_equal(g.numpy(), w)


def test_blas_layout_reads_arrays_in_place_or_refuses():
    from numba import njit

    from stepjit.codegen.gemm import NO_TRANS, TRANS, blas_layout
    layout = njit(lambda x: blas_layout(x))
    base = np.zeros((6, 8), np.float32)
    assert layout(base) == (NO_TRANS, 8)
    assert layout(base.T) == (TRANS, 8)
    assert layout(base[:, 2:5]) == (NO_TRANS, 8)
    assert layout(base[1:4].T) == (TRANS, 8)
    assert layout(base[:, ::2]) == (0, 0)
    assert layout(base[::-1]) == (0, 0)
    assert layout(np.broadcast_to(base[:1], (6, 8))) == (0, 0)
    assert layout(base[:1, ::2]) == (TRANS, 2)          # one row, strided: a column of A.T
    assert layout(base[:, :1]) == (NO_TRANS, 8)         # one column: any column stride
    assert layout(base[2:3]) == (NO_TRANS, 8)           # one row
    assert layout(np.zeros((1, 1), np.float64)) == (NO_TRANS, 1)


def test_a_long_program_with_large_values_is_not_made_native(native_now, monkeypatch):
    """Large values and more distinct loop kernels than NATIVE_MAX_KERNELS: compiling it
    native would cost more than it saves; a tiny program goes native whatever its length."""
    from stepjit.programs import cpu
    monkeypatch.setattr(cpu, "NATIVE_SMALL_ELEMENTS", 64)     # these values count as large
    fn = torch.compile(two_layer_step, backend="cpu")
    _train(fn, np.float32, steps=2)
    assert _program(fn).native is not None, "short: native"
    monkeypatch.setattr(cpu, "NATIVE_MAX_KERNELS", 1)
    tree.clear_programs()
    fn = torch.compile(two_layer_step, backend="cpu")
    _train(fn, np.float32, steps=2)
    assert _program(fn).native is None, "long and large: not native"
    monkeypatch.setattr(cpu, "NATIVE_SMALL_ELEMENTS", D_IN * H)
    tree.clear_programs()
    fn = torch.compile(two_layer_step, backend="cpu")
    _train(fn, np.float32, steps=2)
    assert _program(fn).native is not None
