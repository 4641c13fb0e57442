"""nn.attention.bias: causal_upper_left / causal_lower_right as scaled_dot_product_attention
masks. The masks against NumPy's triangles and PyTorch's materialized ones (where installed);
attention with them against PyTorch's, against is_causal=True (upper left) and compiled."""
import numpy as np
import pytest

import stepjit
from stepjit.nn.attention.bias import CausalBias, CausalVariant, causal_lower_right, causal_upper_left

SIZES = [(2, 5), (4, 4), (3, 7)]


def _qkv(T, lq, lkv):
    rng = np.random.default_rng(lq * 10 + lkv)
    shapes = [(2, 3, lq, 4), (2, 3, lkv, 4), (2, 3, lkv, 4)]
    return [T.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]


@pytest.mark.parametrize("lq,lkv", SIZES)
def test_masks_are_the_two_causal_triangles(lq, lkv):
    ul, lr = causal_upper_left(lq, lkv), causal_lower_right(lq, lkv)
    assert isinstance(ul, stepjit.Tensor) and type(ul) is CausalBias is type(lr)
    assert ul.variant is CausalVariant.UPPER_LEFT and lr.variant is CausalVariant.LOWER_RIGHT
    assert (ul.seq_len_q, ul.seq_len_kv) == (lq, lkv)
    ones = np.ones((lq, lkv), dtype=bool)
    np.testing.assert_array_equal(ul.numpy(), np.tril(ones))
    np.testing.assert_array_equal(lr._materialize().numpy(), np.tril(ones, lkv - lq))


@pytest.mark.parametrize("lq,lkv", SIZES)
def test_attention_with_causal_bias(lq, lkv):
    F = stepjit.nn.functional
    q, k, v = _qkv(stepjit, lq, lkv)
    upper = F.scaled_dot_product_attention(q, k, v, causal_upper_left(lq, lkv))
    lower = F.scaled_dot_product_attention(q, k, v, causal_lower_right(lq, lkv))
    np.testing.assert_array_equal(
        upper.numpy(), F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy())
    assert (lq == lkv) == np.allclose(upper.numpy(), lower.numpy())
    compiled = stepjit.compile(F.scaled_dot_product_attention, fullgraph=True)
    np.testing.assert_allclose(compiled(q, k, v, causal_lower_right(lq, lkv)).numpy(),
                               lower.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("lq,lkv", SIZES)
def test_same_as_pytorch(lq, lkv):
    torch = pytest.importorskip("torch")
    tb = pytest.importorskip("torch.nn.attention.bias")
    for ours, theirs in ((causal_upper_left, tb.causal_upper_left),
                         (causal_lower_right, tb.causal_lower_right)):
        mine, want = ours(lq, lkv), theirs(lq, lkv)
        assert repr(mine) == repr(want)
        got = stepjit.nn.functional.scaled_dot_product_attention(*_qkv(stepjit, lq, lkv), mine)
        ref = torch.nn.functional.scaled_dot_product_attention(*_qkv(torch, lq, lkv), want)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_lengths():
    with pytest.raises(ValueError, match="causal_lower_right expects two sequence lengths"):
        causal_lower_right(3)
