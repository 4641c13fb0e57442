"""Less common PyTorch names (stepjit/ops/extras.py, nn/torch_forms.py's losses, adaptive max
pooling with indices, F.multi_head_attention_forward, F.pdist, SyncBatchNorm on one process,
NLLLoss2d) against PyTorch: values, dtypes and gradients (parameters' and buffers' too), one
table recorded by tests/fixtures/record_extras.py."""
import numpy as np

from tests.fixtures.oracle import Case, layer

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


def _sync_bn(T, seq):
    return layer(T, T.nn.SyncBatchNorm(3, momentum=None), seq)


def _converted(T, img):
    net = T.nn.Sequential(T.nn.Conv2d(3, 4, 2), T.nn.BatchNorm2d(4), T.nn.ReLU(),
                          T.nn.Sequential(T.nn.BatchNorm2d(4, affine=False)))
    net = T.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    return layer(T, net, img)


def _nll2d(T, img):
    target = T.tensor(np.arange(70).reshape(2, 7, 5) % 3)
    return T.nn.NLLLoss2d()(img.log_softmax(1), target)


SPD = RNG.standard_normal((3, 3))
SPD = SPD @ SPD.T + 3 * np.eye(3)
RHS = RNG.standard_normal((3, 2))
SRC = RNG.standard_normal((4, 4))
H = RNG.standard_normal((2, 4))
WIH = RNG.standard_normal((12, 3)) * 0.5
WHH = RNG.standard_normal((12, 4)) * 0.5
XIN = RNG.standard_normal((2, 3))
IMG1 = RNG.standard_normal((1, 2, 5, 5))
K1 = RNG.standard_normal((3, 2, 3, 3))
GOUT = RNG.standard_normal((1, 3, 3, 3))


def _cholesky_forms(T, spd, rhs):
    L = T.linalg.cholesky(spd)
    U = L.mT
    tri = T.triangular_solve(rhs, L, upper=False)
    return (T.cholesky_inverse(L), L.cholesky_inverse(), T.cholesky_inverse(U, upper=True),
            T.cholesky_solve(rhs, L), rhs.cholesky_solve(U, upper=True), tri.solution,
            tri.cloned_coefficient, T.triangular_solve(rhs, U, transpose=True,
                                                       unitriangular=True)[0])


def _index_reduce(T, x, src):
    index = T.tensor([0, 2, 0, 1])
    out = [T.index_reduce(x, 0, index, src, r) for r in ("prod", "mean", "amax", "amin")]
    out += [x.index_reduce(0, index, src, r, include_self=False)
            for r in ("prod", "mean", "amax", "amin")]
    out.append(x.detach().clone().index_reduce_(1, T.tensor([1, 1]), src[:3, :2] * 2, "mean"))
    return tuple(out)


def _cells(T, x, h, wih, whh):
    b = wih[:, 0] * 0.1
    lstm = T.lstm_cell(x, (h, h * 0.5), T.cat([wih, wih[:4]]),
                       T.cat([whh, whh[:4]]), None, None)
    return (T.gru_cell(x, h, wih, whh, b, b * 2), lstm,
            T.rnn_tanh_cell(x, h, wih[:4], whh[:4], b[:4]),
            T.rnn_relu_cell(x, h, wih[:4], whh[:4], None, b[:4]))


def _ctc(T, seq):
    lp = seq.permute(2, 0, 1).log_softmax(2)            # (T=7, N=2, C=3)
    targets, lens = T.tensor([[1, 2], [2, 2]]), T.tensor([2, 1])
    steps = T.tensor([7, 6])
    return (T.ctc_loss(lp, targets, steps, lens), T.ctc_loss(lp, targets, steps, lens, 0, 1),
            T.ctc_loss(lp, targets, steps, lens, 0, 2))


def _conv_grads(T, img, k, gout):
    G = T.nn.grad
    return (G.conv2d_input((1, 2, 5, 5), k, gout), G.conv2d_weight(img, (3, 2, 3, 3), gout),
            G.conv2d_input((1, 2, 6, 6), k, gout, stride=2, padding=1),
            G.conv1d_weight(img[:, :, 0], (3, 2, 3), gout[:, :, 0]))


def _nonzero_static(T, x):
    return (T.nonzero_static(x > 0, size=3), T.nonzero_static(x > 0, size=12, fill_value=-7),
            (x > 0).nonzero_static(size=1))


WIDE = np.concatenate([RNG.uniform(-40.0, 40.0, 10), [0.0, 1e-20, -2.5, 31.0]])
PROB = np.array([1e-300, 1e-20, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-12])


def _special(T, x, p):
    S = T.special
    return (S.i0(x), S.i0e(x), S.i1(x), S.i1e(x), S.erfcx(x / 4), S.ndtri(p), T.i0(x / 8),
            (x / 8).i0())


def _special_values(T, x):
    """(PyTorch has no gradient for these: values only.)"""
    S = T.special
    return (S.spherical_bessel_j0(x), x.detach().clone().i0_(), T.i0_(x.detach().clone()),
            S.modified_bessel_i0(x), S.modified_bessel_i1(x))


def _lp_pool3d(T, vol):
    return (T.nn.functional.lp_pool3d(vol.abs() + 0.1, 2, 2),
            T.nn.functional.lp_pool3d(vol.abs() + 0.1, 3.0, (2, 2, 1), stride=1),
            T.nn.LPPool3d(1.5, 2, ceil_mode=True)(vol.abs() + 0.1))


CASES = [
    Case("real_tensors", _real_tensors, X),
    Case("values", _values, X, Y, grad=(0, 1)),
    Case("loss_aliases", _losses, X, Y, P, SIGN, grad=(0, 1, 2)),
    Case("adaptive_max_with_indices", _pools, IMG, SEQ, VOL),
    Case("multi_head_attention_forward", _mha, Q, KV, W_IN, B_IN, W_OUT, B_OUT, W_K, KV4),
    Case("pdist", _pdist, V),
    Case("sync_batch_norm_one_process", _sync_bn, SEQ),
    Case("convert_sync_batchnorm", _converted, IMG),
    Case("nll_loss_2d", _nll2d, IMG),
    Case("cholesky_and_triangular_forms", _cholesky_forms, SPD, RHS),
    Case("index_reduce", _index_reduce, X, SRC),
    Case("rnn_cell_forms", _cells, XIN, H, WIH, WHH),
    Case("ctc_loss_form", _ctc, SEQ),
    Case("nn_grad_convolutions", _conv_grads, IMG1, K1, GOUT),
    Case("nonzero_static", _nonzero_static, X),
    Case("special_functions", _special, WIDE, PROB, compiled=True),
    Case("special_values", _special_values, WIDE, grad=()),
    Case("lp_pool3d", _lp_pool3d, VOL),
]
