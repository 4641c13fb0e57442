"""Sparse COO tensors (stepjit/ops/sparse.py): construction, conversion and the products a graph
convolution makes, against NumPy's dense arithmetic (and PyTorch where installed); the
gradient reaching the dense operand; compiled steps reading a sparse adjacency match eager and
follow it when it is rebound."""
import numpy as np
import pytest

import stepjit as torch

DENSE = np.array([[0., 2., 0., 1.], [3., 0., 0., 0.], [0., 0., 0., 0.], [0., 4., 5., 0.]],
                 np.float32)
ROWS, COLS = [0, 2, 0, 3, 1], [1, 3, 1, 0, 2]       # (0, 1) twice: an uncoalesced tensor
VALS = [1.5, -2.0, 0.5, 4.0, 3.0]


def _dup_dense():
    out = np.zeros((4, 4), np.float32)
    np.add.at(out, (ROWS, COLS), VALS)
    return out


def test_to_sparse_keeps_nonzeros_in_row_major_order():
    s = torch.from_numpy(DENSE).to_sparse()
    assert s.is_sparse and s.layout is torch.sparse_coo and s.is_coalesced()
    assert torch.ones(2).layout is torch.strided and not torch.ones(2).is_sparse
    assert s.shape == (4, 4) and s._nnz() == 5 and s.dtype == torch.float32
    np.testing.assert_array_equal(s.indices().numpy(), np.array(np.nonzero(DENSE)))
    np.testing.assert_array_equal(s.values().numpy(), DENSE[np.nonzero(DENSE)])
    np.testing.assert_array_equal(s.to_dense().numpy(), DENSE)


def test_sparse_coo_tensor_sums_repeated_indices_and_coalesces():
    idx = np.array([ROWS, COLS], np.int32)      # numpy int32 indices, as graph loaders pass
    s = torch.sparse_coo_tensor(idx, torch.tensor(VALS), (4, 4))
    assert not s.is_coalesced() and s._nnz() == 5
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.indices()
    np.testing.assert_array_equal(s.to_dense().numpy(), _dup_dense())
    c = s.coalesce()
    assert c.is_coalesced() and c._nnz() == 4
    np.testing.assert_array_equal(c.indices().numpy(), np.array(np.nonzero(_dup_dense())))
    np.testing.assert_array_equal(c.values().numpy(), _dup_dense()[np.nonzero(_dup_dense())])
    assert c.indices().dtype == torch.int64


def test_sparse_coo_tensor_dtype_size_and_bad_input():
    s = torch.sparse_coo_tensor([[0, 1], [2, 0]], torch.ones(2), (2, 3), dtype=torch.int64)
    assert s.dtype == torch.int64 and s.shape == (2, 3)
    assert torch.sparse_coo_tensor([[0, 1], [2, 0]], [1., 2.]).shape == (2, 3)   # inferred
    with pytest.raises(ValueError, match="out of bounds for dimension 1"):
        torch.sparse_coo_tensor([[0, 1], [3, 0]], [1., 2.], (2, 3))
    with pytest.raises(ValueError, match="hybrid"):
        torch.sparse_coo_tensor([[0, 1], [2, 0]], torch.ones(2, 4), (2, 3))


def test_dense_plus_sparse_is_dense_with_promoted_dtype():
    s = torch.sparse_coo_tensor(np.array([ROWS, COLS]), torch.ones(5), (4, 4), dtype=torch.int64)
    out = torch.eye(4) + s           # a graph's self-loops added to its adjacency
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    ones = np.zeros((4, 4), np.float32)
    np.add.at(ones, (ROWS, COLS), 1)
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.float32) + ones)
    np.testing.assert_array_equal((s - torch.eye(4)).numpy(), ones - np.eye(4))
    both = s.to(torch.float32) + s.to(torch.float32) * 2
    assert both.is_sparse
    np.testing.assert_array_equal(both.to_dense().numpy(), 3 * ones)


def test_products_with_a_sparse_operand_match_dense_arithmetic():
    s = torch.sparse_coo_tensor(np.array([ROWS, COLS]), torch.tensor(VALS), (4, 4))
    d = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    want = _dup_dense() @ d
    for got in (s @ torch.from_numpy(d), torch.mm(s, torch.from_numpy(d)),
                torch.spmm(s, torch.from_numpy(d)), torch.sparse.mm(s, torch.from_numpy(d)),
                torch.matmul(s, torch.from_numpy(d))):
        assert isinstance(got, torch.Tensor)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    left = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose((torch.from_numpy(left) @ s).numpy(), left @ _dup_dense(),
                               rtol=1e-6, atol=1e-6)
    sq = s @ s
    assert sq.is_sparse
    np.testing.assert_allclose(sq.to_dense().numpy(), _dup_dense() @ _dup_dense(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        s @ torch.ones(3, 2)


def test_gradients_reach_the_dense_operand_and_the_values():
    vals = torch.tensor(VALS, dtype=torch.float64, requires_grad=True)
    s = torch.sparse_coo_tensor(np.array([ROWS, COLS]), vals, (4, 4))
    d = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    g = np.random.default_rng(2).standard_normal((4, 3))
    (torch.spmm(s, d) * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), _dup_dense().T.astype(np.float64) @ g,
                               rtol=1e-12)
    # d(sum(g * S @ d))/d S[r, c] = g[r] . d[c], for each stored entry
    want = [(g[r] * d.detach().numpy()[c]).sum() for r, c in zip(ROWS, COLS)]
    np.testing.assert_allclose(vals.grad.numpy(), want, rtol=1e-12)


def test_sparse_sum_and_unsupported_ops_say_so():
    s = torch.from_numpy(DENSE).to_sparse()
    assert torch.sparse.sum(s).item() == DENSE.sum()
    by_row = torch.sparse.sum(s, 1)
    assert by_row.is_sparse
    np.testing.assert_array_equal(by_row.to_dense().numpy(), DENSE.sum(1))
    with pytest.raises(TypeError, match="relu.*to_dense"):
        torch.relu(s)
    with pytest.raises(TypeError, match="to_dense"):
        s + 1.0


class _GraphStep:
    """A two-layer graph convolution over a normalized sparse adjacency, trained by Adam."""

    def __init__(self):
        g = np.random.default_rng(4)
        n = 12
        adj = (g.random((n, n)) < 0.25).astype(np.float32)
        edges = np.array(np.nonzero(adj), np.int32)
        a = torch.eye(n) + torch.sparse_coo_tensor(edges, torch.ones(edges.shape[1]), (n, n))
        deg = torch.diag(torch.sqrt(1 / a.sum(1))).to_sparse()
        self.adj = (deg @ a @ deg).to_sparse()
        self.x = torch.from_numpy(g.random((n, 5)).astype(np.float32)).to_sparse()
        self.y = torch.from_numpy(g.integers(0, 3, n))
        torch.manual_seed(3)
        self.w1 = torch.nn.Parameter(torch.randn(5, 8) * 0.3)
        self.w2 = torch.nn.Parameter(torch.randn(8, 3) * 0.3)
        self.opt = torch.optim.Adam([self.w1, self.w2], lr=0.05)

    def step(self):
        h = torch.relu(torch.spmm(self.adj, torch.mm(self.x, self.w1)))
        out = torch.log_softmax(torch.spmm(self.adj, h @ self.w2), dim=1)
        loss = torch.nn.functional.nll_loss(out, self.y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_graph_step_matches_eager_and_follows_a_new_adjacency(backend):
    eager, comp = _GraphStep(), _GraphStep()
    fn = torch.compile(comp.step, backend=backend)
    for k in range(6):
        if k == 4:     # a new graph: the compiled step must read it, not replay the old one
            for m in (eager, comp):
                m.adj = (m.adj.to_dense() * 0.5).to_sparse()
        le, lc = eager.step(), fn()
        for a, b in ((comp.w1, eager.w1), (comp.w2, eager.w2), (lc, le)):
            if backend == "interpret":
                np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), f"{k}")
            else:
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(),
                                           rtol=1e-5, atol=1e-6, err_msg=f"step {k}")
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree", st


def test_sparse_against_pytorch():
    pt = pytest.importorskip("torch")
    idx = np.array([ROWS, COLS])
    d = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    s_sj = torch.sparse_coo_tensor(idx, torch.tensor(VALS), (4, 4))
    s_pt = pt.sparse_coo_tensor(pt.from_numpy(idx), pt.tensor(VALS), (4, 4))
    np.testing.assert_allclose(torch.spmm(s_sj, torch.from_numpy(d)).numpy(),
                               pt.spmm(s_pt, pt.from_numpy(d)).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(s_sj.coalesce().indices().numpy(),
                                  s_pt.coalesce().indices().numpy())
    np.testing.assert_array_equal(s_sj.coalesce().values().numpy(),
                                  s_pt.coalesce().values().numpy())
    e_sj = torch.eye(4) + torch.sparse_coo_tensor(idx, torch.ones(5), (4, 4), dtype=torch.int64)
    e_pt = pt.eye(4) + pt.sparse_coo_tensor(pt.from_numpy(idx), pt.ones(5), (4, 4),
                                            dtype=pt.int64)
    assert str(e_sj.dtype).split(".")[-1] == str(e_pt.dtype).split(".")[-1]
    np.testing.assert_array_equal(e_sj.numpy(), e_pt.numpy())
    np.testing.assert_array_equal(torch.from_numpy(DENSE).to_sparse().indices().numpy(),
                                  pt.from_numpy(DENSE).to_sparse().indices().numpy())


def test_legacy_typed_sparse_constructors():
    # pygcn builds its adjacency as torch.sparse.FloatTensor(indices, values, shape) from a
    # float64 scipy matrix, then multiplies with torch.spmm
    rows, cols = np.array([0, 1, 2, 2]), np.array([1, 0, 0, 2])
    vals = np.array([0.5, 2.0, -1.0, 3.0])
    idx = torch.from_numpy(np.vstack((rows, cols)).astype(np.int64))
    adj = torch.sparse.FloatTensor(idx, torch.from_numpy(vals), torch.Size([3, 3]))
    assert adj.dtype is torch.float32 and adj.is_sparse and tuple(adj.shape) == (3, 3)
    assert isinstance(adj, torch.sparse.FloatTensor) and not isinstance(adj, torch.sparse.DoubleTensor)
    assert not isinstance(torch.ones(3), torch.sparse.FloatTensor)
    dense = np.zeros((3, 3))
    dense[rows, cols] = vals
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(torch.spmm(adj, torch.tensor(x, dtype=torch.float32)).numpy(), dense @ x)
    assert tuple(torch.sparse.DoubleTensor(idx, torch.from_numpy(vals)).shape) == (3, 3)
    empty = torch.sparse.FloatTensor(2, 5)
    assert tuple(empty.shape) == (2, 5) and not empty.to_dense().numpy().any()
    with pytest.raises(TypeError, match="sparse.FloatTensor"):
        torch.sparse.FloatTensor("adjacency")
