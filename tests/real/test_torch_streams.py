"""tests/real/torch_streams.py: while recording, PyTorch's random functions draw stepjit's
numbers, in every call form the programs use (needs PyTorch; skipped without it)."""
import numpy as np
import pytest

import stepjit
from tests.real.torch_streams import stepjit_streams


def _stepjit_draws():
    stepjit.manual_seed(1)
    return stepjit.rand(3, dtype=stepjit.float64).numpy(), stepjit.randn(2, 2).numpy()


def test_draws_are_stepjits_including_out():
    torch = pytest.importorskip("torch")
    want_rand, want_randn = _stepjit_draws()
    with stepjit_streams(torch):
        torch.manual_seed(1)
        target = torch.empty(3, dtype=torch.float64)
        assert torch.rand(3, out=target) is target          # out= is filled, in out's dtype
        randn = torch.randn(2, 2)
    np.testing.assert_array_equal(target.numpy(), want_rand)
    np.testing.assert_array_equal(randn.numpy(), want_randn)


def _encoder_layer_output(T):
    """A Transformer encoder layer in training mode (dropout 0.3 on the attention weights,
    inside MultiheadAttention, and on its residual branches), float64 weights from NumPy."""
    T.manual_seed(3)
    layer = T.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=12, dropout=0.3,
                                         dtype=T.float64)
    rng = np.random.RandomState(4)
    with T.no_grad():
        for p in layer.parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
    x = T.from_numpy(rng.standard_normal((5, 2, 8)))
    mask = T.nn.Transformer.generate_square_subsequent_mask(5, dtype=T.float64)
    return layer(x, src_mask=mask).detach().numpy()


def test_attention_dropout_inside_pytorchs_kernel_draws_stepjits_mask():
    torch = pytest.importorskip("torch")
    want = _encoder_layer_output(stepjit)
    with stepjit_streams(torch):
        got = _encoder_layer_output(torch)
    np.testing.assert_allclose(got, want, rtol=1e-12)
