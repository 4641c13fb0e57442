"""Concatenation and expand inside a native program: written by stepjit's own helpers
(codegen/indexing.py concat_part, codegen/pointers.py broadcast_view), not by Numba's
np.concatenate and np.broadcast_to, which compile generic functions in every process (seconds
for a concatenation of many parts) and allocate. Values and gradients match eager."""
import numpy as np

import stepjit as torch


def _native_texts(fn):
    texts = [p.native_text for _, p in fn.programs.values() if p.is_native]
    assert texts
    return texts


def test_concat_along_each_axis_and_expand_match_eager(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(3)
    w0 = r.standard_normal((5, 3)).astype(np.float32)
    b0 = r.standard_normal((1, 5)).astype(np.float32)
    xs = [torch.tensor(r.standard_normal((2, 3)).astype(np.float32)) for _ in range(3)]

    def step(w, b, x0, x1, x2):
        rows = torch.cat([x0, x1, x2], 0)                   # (6, 3): parts along axis 0
        cols = torch.cat([x0, x1 * 2.0], 1)                 # (2, 6): parts along axis 1
        h = b.expand(6, 5) @ w                              # an expand a matmul reads
        loss = (h * rows).sum() + (cols.tanh() * cols).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
            w.grad = None
            b.grad = None
        return loss

    w, b = torch.tensor(w0.copy(), requires_grad=True), torch.tensor(b0.copy(), requires_grad=True)
    fn = torch.compile(step, backend="cpu")
    got = [fn(w, b, *xs).item() for _ in range(3)]
    we, be = torch.tensor(w0.copy(), requires_grad=True), torch.tensor(b0.copy(), requires_grad=True)
    want = [step(we, be, *xs).item() for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(w.detach().numpy(), we.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), be.detach().numpy(), rtol=1e-5, atol=1e-6)
    for text in _native_texts(fn):
        assert "np.concatenate" not in text and "np.broadcast_to" not in text
        assert "concat_part(" in text


def test_concat_of_unrolled_steps_matches_numpy(monkeypatch):
    """An unrolled loop's per-step values stacked (the add-chain pass sums them as one concat):
    many parts of rank 3 into one buffer, checked against NumPy. A stack's parts are computed
    in their slice of its buffer (nothing copied); the same parts concatenated along dim 1 are
    copied into the concatenation's buffer."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    r = np.random.default_rng(4)
    parts = [r.standard_normal((2, 3)).astype(np.float32) for _ in range(6)]
    ts = [torch.tensor(p) for p in parts]

    def step(*xs):
        ys = [x.tanh() for x in xs]
        sums = torch.stack([y.sum() for y in ys]) * 2.0      # 0-dim parts: copied
        return torch.stack(ys, 0) * 3.0, torch.cat(ys, 1), sums

    fn = torch.compile(step, backend="cpu")
    for _ in range(2):
        stacked, cat, sums = (t.numpy() for t in fn(*ts))
    want = np.stack([np.tanh(p) for p in parts], 0) * np.float32(3.0)
    np.testing.assert_allclose(stacked, want, rtol=3e-6, atol=1e-6)
    np.testing.assert_allclose(cat, np.concatenate([np.tanh(p) for p in parts], 1), rtol=3e-6)
    np.testing.assert_allclose(sums, [np.tanh(p).sum() * 2 for p in parts], rtol=3e-6)
    for text in _native_texts(fn):
        program = text.split("\ndef program(", 1)[1].split("\ndef program_packed(", 1)[0]
        assert program.count("concat_part(") == 12 and "np.concatenate" not in text


def test_concat_part_writes_a_strided_buffer_in_place():
    """A concatenation computed into a buffer that is not C-contiguous (a transposed input's)
    writes that buffer, not a copy of it."""
    from stepjit.codegen.indexing import concat_part
    r = np.random.default_rng(5)
    parts = [r.standard_normal((2, k, 3)).astype(np.float32) for k in (1, 3)]
    base = np.zeros((3, 4, 2), np.float32)
    out = base.transpose(2, 1, 0)                     # (2, 4, 3), strided
    at = 0
    for p in parts:
        at = concat_part(out, p, at, 1)
    assert at == 4
    np.testing.assert_array_equal(out, np.concatenate(parts, 1))
