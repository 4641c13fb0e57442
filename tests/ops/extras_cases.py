"""Less common PyTorch names (stepjit/ops/extras.py, nn/torch_forms.py's losses, adaptive max
pooling with indices, F.multi_head_attention_forward, F.pdist) against PyTorch: values,
dtypes and gradients, one table recorded by tests/fixtures/record_extras.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1013)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
P = RNG.uniform(0.1, 0.9, (3, 4))
SIGN = np.where(RNG.standard_normal(3) > 0, 1.0, -1.0)
V = RNG.standard_normal((5, 3))
IMG = RNG.standard_normal((2, 3, 7, 5))
SEQ = RNG.standard_normal((2, 3, 7))
VOL = RNG.standard_normal((1, 2, 5, 4, 3))
Q = RNG.standard_normal((4, 2, 6))
KV = RNG.standard_normal((5, 2, 6))
W_IN = RNG.standard_normal((18, 6)) * 0.4
B_IN = RNG.standard_normal(18) * 0.1
W_OUT = RNG.standard_normal((6, 6)) * 0.4
B_OUT = RNG.standard_normal(6) * 0.1
W_K = RNG.standard_normal((6, 4)) * 0.4
KV4 = RNG.standard_normal((5, 2, 4))
PAD = np.array([[False, False, False, True, True], [False] * 5])


def _real_tensors(T, x):
    z = x.cdouble()
    return (x.real, T.isreal(x), x.isreal(), z.real, z.imag, T.view_as_real(x.cfloat()).double(),
            T.isreal(T.complex(x, x * (x > 0))))


def _values(T, x, y):
    v = T.tensor(2.5, dtype=T.float64)
    return (T.fill(x, 1.5), T.fill(x, v), T.unflatten(x, 1, (2, 2)), x.sinc(),
            x.detach().clone().sinc_(), T.sinc(x * 0), x.prelu(T.tensor([0.25], dtype=T.float64)),
            x.hardshrink(0.3), x.detach().clone().swapaxes_(0, 1),
            x.detach().clone().swapdims_(1, 0), x.detach().clone().arctan2_(y),
            x.detach().abs().float_power_(1.5), x.resize(4, 3), x.resize_as(y.t()),
            T.index_put(x, (T.tensor([0, 2]),), y[:2] * 2),
            T.index_put(x, (T.tensor([1, 1]), T.tensor([0, 0])), T.tensor([1.0, 2.0],
                                                                           dtype=T.float64),
                        True))


def _losses(T, x, y, p, sign):
    t = (y > 0).double()
    return (T.kl_div(x, p, 0), T.kl_div(x, p), T.kl_div(x, p.log(), 2, log_target=True),
            T.binary_cross_entropy_with_logits(x, p), T.binary_cross_entropy_with_logits(
                x, p, x.detach().abs(), T.ones(4, dtype=T.float64) * 2, 0),
            T.margin_ranking_loss(x[:, 0], y[:, 0], sign, 0.1),
            T.cosine_embedding_loss(x, y, sign, 0.2, 2),
            T.hinge_embedding_loss(x, t * 2 - 1, 0.5, 0),
            T.poisson_nll_loss(x, p, True, False, 1e-8, 1),
            T.poisson_nll_loss(x.abs() + 0.1, p * 3, False, True, 1e-8, 2),
            T.triplet_margin_loss(x, y, x * 0.5, 1.0, 2.0, 1e-6, True, 1))


def _pools(T, img, seq, vol):
    F = T.nn.functional
    return (T.adaptive_max_pool1d(seq, 3), F.adaptive_max_pool1d_with_indices(seq, 4),
            F.adaptive_max_pool1d(seq[0], 2, return_indices=True),
            F.adaptive_max_pool2d(img, (3, 2), return_indices=True),
            F.adaptive_max_pool2d_with_indices(img, (None, 3)),
            F.adaptive_max_pool2d(img, 1, True), F.adaptive_max_pool2d(img[0], (7, 5), True),
            F.adaptive_max_pool3d(vol, (2, 3, 2), return_indices=True),
            F.adaptive_max_pool3d_with_indices(vol[0], 1),
            T.max_pool3d(vol, 2, 1), T.max_pool1d_with_indices(seq, 2),
            T.constant_pad_nd(img, (1, 2), 0.5), T.rms_norm(img, (5,)),
            T.conv_transpose3d(vol, vol[:, :, :2, :2, :2].transpose(0, 1).contiguous()))


def _mha(T, q, kv, w_in, b_in, w_out, b_out, w_k, kv4):
    F = T.nn.functional
    out = F.multi_head_attention_forward(q, kv, kv, 6, 2, w_in, b_in, None, None, False, 0.0,
                                         w_out, b_out)
    masked = F.multi_head_attention_forward(
        q, kv, kv, 6, 3, w_in, b_in, b_in[:6].reshape(1, 1, 6), b_in[6:12].reshape(1, 1, 6),
        True, 0.0, w_out, None, key_padding_mask=T.tensor(PAD), average_attn_weights=False,
        attn_mask=T.tril(T.ones(4, 5)).bool().logical_not())
    separate = F.multi_head_attention_forward(
        q[:1], kv4, kv4, 6, 2, None, b_in, None, None, False, 0.0, w_out, b_out,
        need_weights=False, use_separate_proj_weight=True, q_proj_weight=w_in[:6],
        k_proj_weight=w_k, v_proj_weight=w_k * 0.5)
    unbatched = F.multi_head_attention_forward(q[:, 0], kv[:, 0], kv[:, 0], 6, 2, w_in, b_in,
                                               None, None, False, 0.0, w_out, b_out)
    return out + masked + separate[:1] + unbatched


def _pdist(T, v):
    F = T.nn.functional
    return F.pdist(v), F.pdist(v, 1.0), F.pdist(v, 3.0)


CASES = [
    Case("real_tensors", _real_tensors, X),
    Case("values", _values, X, Y, grad=(0, 1)),
    Case("loss_aliases", _losses, X, Y, P, SIGN, grad=(0, 1, 2)),
    Case("adaptive_max_with_indices", _pools, IMG, SEQ, VOL),
    Case("multi_head_attention_forward", _mha, Q, KV, W_IN, B_IN, W_OUT, B_OUT, W_K, KV4),
    Case("pdist", _pdist, V),
]
