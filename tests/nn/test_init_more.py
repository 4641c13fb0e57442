"""nn.init's remaining initializers and the new layers' default initialization, against
PyTorch's formulas (the random streams differ from PyTorch's, the distributions must not)."""
import math

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain():
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        w = torch.empty(*shape)
        nn.init.orthogonal_(w, gain=2.0)
        a = w.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
        small = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
        np.testing.assert_allclose(small, np.eye(min(a.shape)), atol=1e-6)


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    w = torch.empty(20000, dtype=torch.float64)
    nn.init.trunc_normal_(w, mean=0.2, std=0.5, a=-0.3, b=1.0)
    a = w.numpy()
    assert a.min() >= -0.3 and a.max() <= 1.0
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)   # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2              # noqa: E731
    al, be = (-0.3 - 0.2) / 0.5, (1.0 - 0.2) / 0.5
    mean = 0.2 + 0.5 * (phi(al) - phi(be)) / (cdf(be) - cdf(al))
    assert abs(a.mean() - mean) < 0.01


def test_erfinv_inverts_erf():
    y = np.linspace(-0.9999, 0.9999, 101)
    x = torch.erfinv(torch.tensor(y, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(np.vectorize(math.erf)(x), y, atol=1e-15)


def test_eye_dirac_and_sparse():
    w = torch.empty(3, 4)
    nn.init.eye_(w)
    np.testing.assert_array_equal(w.numpy(), np.eye(3, 4))
    w = torch.empty(4, 2, 3, 3)
    nn.init.dirac_(w, groups=2)
    a = w.numpy()
    assert a.sum() == 4 and a[0, 0, 1, 1] == 1 and a[1, 1, 1, 1] == 1 and a[2, 0, 1, 1] == 1
    w = torch.empty(10, 3)
    nn.init.sparse_(w, 0.3)
    assert ((w.numpy() == 0).sum(0) == 3).all()


def _bound(layer, name):
    return np.abs(getattr(layer, name).detach().numpy()).max()


@pytest.mark.parametrize("make,names,bound", [
    (lambda: nn.Conv2d(3, 4, 3), ["weight", "bias"], 1 / math.sqrt(27)),
    (lambda: nn.Conv1d(2, 4, 5), ["weight", "bias"], 1 / math.sqrt(10)),
    (lambda: nn.LSTM(3, 4), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"], 0.5),
    (lambda: nn.GRUCell(3, 9), ["weight_ih", "bias_hh"], 1 / 3),
])
def test_layers_initialize_within_pytorchs_bounds(make, names, bound):
    layer = make()
    for n in names:
        b = _bound(layer, n)
        assert b <= bound and b > 0.6 * bound, (n, b, bound)


def test_default_parameters_match_pytorchs_shapes_and_values():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1, 1, 1] and bn.bias.tolist() == [0, 0, 0]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                   "num_batches_tracked"]
    ln = nn.LayerNorm((2, 3))
    assert tuple(ln.weight.shape) == (2, 3)
    mha = nn.MultiheadAttention(4, 2)
    assert [n for n, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_bias.abs().sum().item() == 0
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4] == "weight_ih_l0_reverse" and len(names) == 16
    assert tuple(lstm.weight_ih_l1.shape) == (16, 8)
    emb = nn.Embedding(5, 3, padding_idx=1)
    assert emb.weight[1].abs().sum().item() == 0
