"""Layers, nn.functional and losses checked against PyTorch: one table, recorded by
tests/fixtures/record_nn.py. Layer cases call a float64 module whose weights are set from
a seeded RNG on both sides (tests/fixtures/oracle.layer), so parameter gradients and
buffers (BatchNorm's running statistics) are compared too."""
import numpy as np

from tests.fixtures.oracle import Case, layer

RNG = np.random.default_rng(19)


def r(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.2, 1.5, shape)


def idx(hi, *shape):
    return RNG.integers(0, hi, shape).astype(np.int64)


def sign(*shape):
    return RNG.choice([-1.0, 1.0], shape)


IMG = r(2, 3, 6, 6)
SEQ = r(2, 5, 3)          # (N, L, C) or (L, N, H)
X = r(4, 5)
_CTC_RNG = np.random.default_rng(77)
CTC_X = _CTC_RNG.standard_normal((7, 3, 5))                 # (T, N, C) logits
CTC_Y = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4]])        # padded targets
EB_W = _CTC_RNG.standard_normal((10, 4))                    # embedding_bag's table
EB_I = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 7])
EB_O = np.array([0, 4, 4, 8])                               # (an empty bag at 2)
EB_P = _CTC_RNG.uniform(0.5, 2.0, (2, 5))
FOLD_A = _CTC_RNG.standard_normal((2, 12, 9))                # F.fold's blocks
FOLD_B = _CTC_RNG.standard_normal((1, 8, 15))
FOLD_C = _CTC_RNG.standard_normal((8, 16))
POOL3D = _CTC_RNG.standard_normal((1, 2, 4, 5, 6))
PROBS = RNG.dirichlet(np.ones(5), 4)
KINK = np.array([[-2.0, -0.5, 0.3, 1.7, 4.0], [0.7, -1.2, 2.2, -3.1, 0.05]])


def F(T):
    return T.nn.functional


ACTIVATIONS = [
    ("gelu", lambda T, x: F(T).gelu(x)),
    ("gelu_tanh", lambda T, x: T.nn.GELU(approximate="tanh")(x)),
    ("silu", lambda T, x: T.nn.SiLU()(x)),
    ("mish", lambda T, x: F(T).mish(x)),
    ("leaky_relu", lambda T, x: T.nn.LeakyReLU(0.2)(x)),
    ("elu", lambda T, x: T.nn.ELU(alpha=0.7)(x)),
    ("celu", lambda T, x: F(T).celu(x, 1.3)),
    ("selu", lambda T, x: T.nn.SELU()(x)),
    ("softplus", lambda T, x: T.nn.Softplus(beta=2.0, threshold=3.0)(x)),
    ("hardtanh", lambda T, x: T.nn.Hardtanh(-0.6, 1.0)(x)),
    ("relu6", lambda T, x: F(T).relu6(x * 3)),
    ("hardsigmoid", lambda T, x: T.nn.Hardsigmoid()(x * 3)),
    ("hardswish", lambda T, x: T.nn.Hardswish()(x * 3)),
    ("softsign", lambda T, x: T.nn.Softsign()(x)),
    ("tanhshrink", lambda T, x: T.nn.Tanhshrink()(x)),
    ("softshrink", lambda T, x: T.nn.Softshrink(0.4)(x)),
    ("hardshrink", lambda T, x: T.nn.Hardshrink(0.4)(x)),
    ("logsigmoid", lambda T, x: T.nn.LogSigmoid()(x * 10)),
    ("threshold", lambda T, x: T.nn.Threshold(0.1, -2.0)(x)),
    ("glu", lambda T, x: T.nn.GLU(-1)(x[:, :4])),
    ("softmin", lambda T, x: T.nn.Softmin(1)(x)),
    ("softmax_module", lambda T, x: T.nn.Softmax(dim=0)(x)),
    ("log_softmax_module", lambda T, x: T.nn.LogSoftmax(dim=1)(x)),
]

# PyTorch's float64 backward of these multiplies by float32 constants (1.0f / 6, 1 / alpha):
# its gradients carry float32 rounding, 3e-8 relative.
FLOAT32_CONSTANTS = {"celu", "hardsigmoid"}
CASES = [Case(name, fn, KINK, tol=1e-7 if name in FLOAT32_CONSTANTS else 1e-10)
         for name, fn in ACTIVATIONS] + [
    Case("prelu", lambda T, x: layer(T, T.nn.PReLU(3), x), IMG),
    # -- normalization ----------------------------------------------------------------------
    Case("layer_norm", lambda T, x: layer(T, T.nn.LayerNorm(3), x), SEQ),
    Case("layer_norm_2d_shape", lambda T, x: layer(T, T.nn.LayerNorm([6, 6]), x), IMG),
    Case("layer_norm_functional", lambda T, x: F(T).layer_norm(x, (5,), eps=1e-3), X),
    Case("group_norm", lambda T, x: layer(T, T.nn.GroupNorm(3, 3), x), IMG),
    Case("batch_norm2d_train", lambda T, x: layer(T, T.nn.BatchNorm2d(3), x), IMG),
    Case("batch_norm2d_eval", lambda T, x: layer(T, T.nn.BatchNorm2d(3), x, train=False), IMG),
    Case("batch_norm1d_train", lambda T, x: layer(T, T.nn.BatchNorm1d(5, momentum=0.3), x), X),
    Case("batch_norm1d_3d_input", lambda T, x: layer(T, T.nn.BatchNorm1d(5), x), r(3, 5, 4)),
    Case("batch_norm_cumulative", lambda T, x: layer(T, T.nn.BatchNorm1d(5, momentum=None), x),
         X),
    Case("batch_norm_no_stats", lambda T, x: layer(T, T.nn.BatchNorm1d(5, affine=False,
                                                                       track_running_stats=False),
                                                   x, train=False), X),
    Case("normalize", lambda T, x: F(T).normalize(x, dim=1), X),
    Case("normalize_p1", lambda T, x: F(T).normalize(x, p=1.0, dim=0), X),
    # -- embedding ---------------------------------------------------------------------------
    Case("embedding", lambda T, i: layer(T, T.nn.Embedding(6, 3), i), idx(6, 2, 4)),
    Case("embedding_padding", lambda T, i: layer(T, T.nn.Embedding(6, 3, padding_idx=2), i),
         np.array([[2, 1, 2], [0, 5, 1]])),
    Case("embedding_max_norm", lambda T, i: layer(T, T.nn.Embedding(6, 3, max_norm=0.5), i),
         np.array([1, 4, 1])),
    Case("embedding_functional", lambda T, i, w: F(T).embedding(i, w), idx(4, 3), r(4, 2)),
    # -- convolution and pooling ------------------------------------------------------------
    Case("conv2d", lambda T, x: layer(T, T.nn.Conv2d(3, 4, 3), x), IMG),
    Case("conv2d_stride_pad", lambda T, x: layer(T, T.nn.Conv2d(3, 2, 3, stride=2, padding=1),
                                                 x), IMG),
    Case("conv2d_same_dilation", lambda T, x: layer(T, T.nn.Conv2d(3, 2, 3, padding="same",
                                                                   dilation=2), x), IMG),
    Case("conv2d_groups_nobias", lambda T, x: layer(T, T.nn.Conv2d(3, 6, (2, 3), groups=3,
                                                                   bias=False), x), IMG),
    Case("conv2d_rect_stride", lambda T, x: layer(T, T.nn.Conv2d(3, 2, (3, 2), stride=(1, 2),
                                                                 padding=(0, 1)), x), IMG),
    Case("conv2d_reflect", lambda T, x: layer(T, T.nn.Conv2d(3, 2, 3, padding=1,
                                                             padding_mode="reflect"), x), IMG),
    Case("conv2d_unbatched", lambda T, x: layer(T, T.nn.Conv2d(3, 2, 2), x), IMG[0]),
    Case("conv1d", lambda T, x: layer(T, T.nn.Conv1d(5, 4, 3, padding=1), x), r(2, 5, 7)),
    Case("conv1d_stride_dilation", lambda T, x: layer(T, T.nn.Conv1d(5, 2, 2, stride=2,
                                                                     dilation=2), x), r(2, 5, 9)),
    Case("conv_transpose2d", lambda T, x: layer(T, T.nn.ConvTranspose2d(3, 2, 3, stride=2,
                                                                        padding=1,
                                                                        output_padding=1), x),
         IMG),
    Case("conv_transpose2d_groups", lambda T, x: layer(T, T.nn.ConvTranspose2d(3, 3, 2,
                                                                               groups=3), x),
         IMG),
    Case("max_pool2d", lambda T, x: T.nn.MaxPool2d(2)(x), IMG),
    Case("max_pool2d_stride_pad", lambda T, x: F(T).max_pool2d(x, 3, 2, 1), IMG),
    Case("max_pool2d_ceil_dilation", lambda T, x: F(T).max_pool2d(x, 2, 2, 0, 2, True), r(1, 2, 7, 7)),
    Case("max_pool2d_indices", lambda T, x: F(T).max_pool2d(x, 2, return_indices=True), IMG),
    Case("max_pool1d", lambda T, x: T.nn.MaxPool1d(3, 2)(x), r(2, 3, 9)),
    Case("avg_pool2d", lambda T, x: T.nn.AvgPool2d(2)(x), IMG),
    Case("avg_pool2d_pad", lambda T, x: F(T).avg_pool2d(x, 3, 2, 1), IMG),
    Case("avg_pool2d_pad_exclude", lambda T, x: F(T).avg_pool2d(x, 3, 2, 1,
                                                                count_include_pad=False), IMG),
    Case("avg_pool2d_ceil", lambda T, x: F(T).avg_pool2d(x, 2, 2, 1, True), r(1, 2, 5, 5)),
    Case("avg_pool1d", lambda T, x: T.nn.AvgPool1d(2)(x), r(2, 3, 8)),
    Case("adaptive_avg_pool2d", lambda T, x: T.nn.AdaptiveAvgPool2d((4, 3))(x), IMG),
    Case("adaptive_avg_pool2d_one", lambda T, x: T.nn.AdaptiveAvgPool2d(1)(x), IMG),
    Case("adaptive_avg_pool1d", lambda T, x: T.nn.AdaptiveAvgPool1d(3)(x), r(2, 3, 7)),
    Case("adaptive_max_pool2d", lambda T, x: T.nn.AdaptiveMaxPool2d((4, 3))(x), IMG),
    Case("pad_constant", lambda T, x: F(T).pad(x, (1, 2, 0, 1), value=0.5), IMG),
    Case("pad_crop", lambda T, x: F(T).pad(x, (-1, 2)), X),
    Case("pad_reflect", lambda T, x: F(T).pad(x, (2, 1, 1, 2), mode="reflect"), IMG),
    Case("pad_replicate", lambda T, x: F(T).pad(x, (2, 1), mode="replicate"), r(2, 3, 4)),
    Case("pad_circular", lambda T, x: F(T).pad(x, (1, 2, 2, 0), mode="circular"), IMG),
    Case("interpolate_nearest", lambda T, x: F(T).interpolate(x, scale_factor=2), IMG),
    Case("interpolate_size", lambda T, x: T.nn.Upsample(size=(4, 9))(x), IMG),
    Case("unfold", lambda T, x: F(T).unfold(x, 2, padding=1, stride=2), IMG),
    Case("flatten_unflatten", lambda T, x: T.nn.Unflatten(1, (8, 9))(T.nn.Flatten()(x[:, :2])),
         IMG),
    # -- recurrent ----------------------------------------------------------------------------
    Case("rnn_cell", lambda T, x, h: layer(T, T.nn.RNNCell(3, 4), x, h), r(2, 3), r(2, 4)),
    Case("rnn_cell_relu_nohx", lambda T, x: layer(T, T.nn.RNNCell(3, 4, nonlinearity="relu"), x),
         r(2, 3)),
    Case("lstm_cell", lambda T, x, h, c: layer(T, T.nn.LSTMCell(3, 4), x, (h, c)), r(2, 3),
         r(2, 4), r(2, 4)),
    Case("gru_cell", lambda T, x, h: layer(T, T.nn.GRUCell(3, 4), x, h), r(2, 3), r(2, 4)),
    Case("gru_cell_unbatched", lambda T, x: layer(T, T.nn.GRUCell(3, 4), x), r(3)),
    Case("rnn", lambda T, x: layer(T, T.nn.RNN(3, 4), x), SEQ),
    Case("rnn_two_layers_h0", lambda T, x, h: layer(T, T.nn.RNN(3, 4, 2), x, h), SEQ,
         r(2, 5, 4)),
    Case("lstm", lambda T, x: layer(T, T.nn.LSTM(3, 4), x), SEQ),
    Case("lstm_batch_first_2layers", lambda T, x: layer(T, T.nn.LSTM(3, 4, num_layers=2,
                                                                     batch_first=True), x), SEQ),
    Case("lstm_bidirectional", lambda T, x: layer(T, T.nn.LSTM(3, 2, bidirectional=True), x),
         SEQ),
    Case("lstm_initial_state", lambda T, x, h, c: layer(T, T.nn.LSTM(3, 4), x, (h, c)), SEQ,
         r(1, 5, 4), r(1, 5, 4)),
    Case("lstm_unbatched", lambda T, x: layer(T, T.nn.LSTM(3, 4), x), r(4, 3)),
    Case("gru", lambda T, x: layer(T, T.nn.GRU(3, 4, batch_first=True), x), SEQ),
    Case("gru_bidirectional_2layers", lambda T, x: layer(T, T.nn.GRU(3, 2, 2, bidirectional=True),
                                                         x), SEQ),
    # -- attention ----------------------------------------------------------------------------
    Case("sdpa", lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v), r(2, 2, 3, 4),
         r(2, 2, 5, 4), r(2, 2, 5, 3)),
    Case("sdpa_causal", lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v,
                                                                             is_causal=True),
         r(1, 2, 4, 4), r(1, 2, 4, 4), r(1, 2, 4, 4)),
    Case("sdpa_bool_mask", lambda T, q, k, v, m: F(T).scaled_dot_product_attention(
        q, k, v, attn_mask=m > 0), r(2, 3, 4), r(2, 5, 4), r(2, 5, 4),
        np.where(np.arange(15).reshape(3, 5) % 4 == 0, -1.0, 1.0), grad=(0, 1, 2)),
    Case("sdpa_float_mask_scale", lambda T, q, k, v, m: F(T).scaled_dot_product_attention(
        q, k, v, attn_mask=m, scale=0.3), r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), r(3, 5)),
    Case("mha", lambda T, q: layer(T, T.nn.MultiheadAttention(4, 2), q, q, q), r(3, 2, 4)),
    Case("mha_batch_first_kv", lambda T, q, k: layer(T, T.nn.MultiheadAttention(
        4, 2, batch_first=True, kdim=3, vdim=5), q, k, k[..., :1].repeat(1, 1, 5)),
        r(2, 3, 4), r(2, 6, 3)),
    Case("mha_masks", lambda T, q, k: layer(T, T.nn.MultiheadAttention(4, 1), q, k, k,
                                            attn_mask=T.ones(3, 5).tril().bool().logical_not(),
                                            key_padding_mask=T.tensor([[False] * 4 + [True],
                                                                       [False] * 5])),
         r(3, 2, 4), r(5, 2, 4)),
    Case("mha_no_avg", lambda T, q: layer(T, T.nn.MultiheadAttention(4, 2, bias=False), q, q, q,
                                          average_attn_weights=False), r(3, 4)),
    # -- losses -------------------------------------------------------------------------------
    Case("smooth_l1", lambda T, x, y: F(T).smooth_l1_loss(x, y), X, r(4, 5)),
    Case("smooth_l1_beta_sum", lambda T, x, y: T.nn.SmoothL1Loss(reduction="sum", beta=0.5)(x, y),
         X, r(4, 5)),
    Case("huber", lambda T, x, y: T.nn.HuberLoss(delta=0.7)(x, y), X, r(4, 5)),
    Case("huber_none", lambda T, x, y: F(T).huber_loss(x, y, reduction="none"), X, r(4, 5)),
    Case("kl_div_batchmean", lambda T, x, y: T.nn.KLDivLoss(reduction="batchmean")(x, y),
         np.log(PROBS), np.concatenate([PROBS[:, :4], np.zeros((4, 1))], 1),
         grad=(0,)),   # (d/dtarget is -inf at a zero target; PyTorch answers NaN)
    Case("kl_div_log_target", lambda T, x, y: F(T).kl_div(x, y, reduction="sum",
                                                          log_target=True), np.log(PROBS),
         np.log(PROBS[::-1].copy())),
    Case("nll_weight_ignore", lambda T, x, y, w: F(T).nll_loss(x, y, weight=w, ignore_index=1),
         r(4, 3), np.array([0, 1, 2, 2]), pos(3), grad=(0,)),
    Case("nll_spatial", lambda T, x, y: T.nn.NLLLoss()(x, y), r(2, 3, 2, 2), idx(3, 2, 2, 2)),
    Case("cross_entropy_spatial_weight", lambda T, x, y, w: T.nn.CrossEntropyLoss(
        weight=w, ignore_index=0, label_smoothing=0.1)(x, y), r(2, 3, 4), idx(3, 2, 4), pos(3), grad=(0,)),
    Case("cross_entropy_probs_spatial", lambda T, x, y: F(T).cross_entropy(x, y),
         r(2, 3, 2), RNG.dirichlet(np.ones(3), (2, 2)).transpose(0, 2, 1).copy()),
    Case("cross_entropy_sum_smoothing", lambda T, x, y: F(T).cross_entropy(
        x, y, reduction="sum", label_smoothing=0.3), r(4, 5), idx(5, 4)),
    Case("bce_weight", lambda T, p, y, w: F(T).binary_cross_entropy(p, y, weight=w),
         RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3)).round(), pos(3), grad=(0,)),
    Case("bce_logits_pos_weight", lambda T, x, y, w: T.nn.BCEWithLogitsLoss(pos_weight=w)(x, y),
         r(4, 3), RNG.uniform(0, 1, (4, 3)).round(), pos(3), grad=(0,)),
    Case("poisson_nll", lambda T, x, y: T.nn.PoissonNLLLoss()(x, y), r(4, 3),
         RNG.poisson(2.0, (4, 3)).astype(float), grad=(0,)),
    Case("poisson_nll_full_rate", lambda T, x, y: F(T).poisson_nll_loss(x, y, log_input=False,
                                                                        full=True),
         pos(4, 3), RNG.poisson(2.0, (4, 3)).astype(float), grad=(0,)),
    Case("gaussian_nll", lambda T, x, y, v: T.nn.GaussianNLLLoss()(x, y, v), X, r(4, 5),
         pos(4, 5)),
    Case("gaussian_nll_full_var_vector", lambda T, x, y, v: F(T).gaussian_nll_loss(
        x, y, v, full=True, reduction="sum"), X, r(4, 5), pos(4)),
    Case("cosine_similarity", lambda T, a, b: T.nn.CosineSimilarity(dim=1)(a, b), X, r(4, 5)),
    Case("pairwise_distance", lambda T, a, b: T.nn.PairwiseDistance()(a, b), X, r(4, 5)),
    Case("cosine_embedding", lambda T, a, b, y: T.nn.CosineEmbeddingLoss(margin=0.2)(a, b, y),
         X, r(4, 5), np.array([1.0, -1.0, -1.0, 1.0]), grad=(0, 1)),
    Case("margin_ranking", lambda T, a, b, y: T.nn.MarginRankingLoss(0.3)(a, b, y), r(6), r(6),
         sign(6), grad=(0, 1)),
    Case("hinge_embedding", lambda T, x, y: T.nn.HingeEmbeddingLoss(margin=1.2)(x, y), X,
         sign(4, 5), grad=(0,)),
    Case("triplet_margin", lambda T, a, p, n: T.nn.TripletMarginLoss(margin=1.5)(a, p, n), X,
         r(4, 5), r(4, 5)),
    Case("triplet_margin_swap_p1", lambda T, a, p, n: F(T).triplet_margin_loss(
        a, p, n, p=1, swap=True), X, r(4, 5), r(4, 5)),
    Case("soft_margin", lambda T, x, y: T.nn.SoftMarginLoss()(x, y), X, sign(4, 5), grad=(0,)),
    Case("multilabel_soft_margin", lambda T, x, y, w: T.nn.MultiLabelSoftMarginLoss(weight=w)(
        x, y), X, RNG.uniform(0, 1, (4, 5)).round(), pos(5), grad=(0,)),
    Case("multi_margin", lambda T, x, y: T.nn.MultiMarginLoss()(x, y), X, idx(5, 4)),
    Case("multi_margin_p2_weight", lambda T, x, y, w: F(T).multi_margin_loss(
        x, y, p=2, margin=0.5, weight=w), X, idx(5, 4), pos(5), grad=(0,)),
    Case("one_hot", lambda T, i: F(T).one_hot(i, 5), idx(5, 2, 3)),
    Case("transformer_encoder_layer", lambda T, x: layer(T, T.nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=6, dropout=0.0), x), r(3, 2, 4)),
    Case("transformer_encoder_prenorm_gelu_masked", lambda T, x: layer(T, T.nn.TransformerEncoder(
        T.nn.TransformerEncoderLayer(4, 2, 6, 0.0, "gelu", batch_first=True, norm_first=True),
        2, norm=T.nn.LayerNorm(4)), x, mask=T.ones(3, 3).triu(1).bool()), r(2, 3, 4)),
    Case("pad_sequence", lambda T, a, b: T.nn.utils.rnn.pad_sequence([a, b], batch_first=True,
                                                                      padding_value=-1.0),
         r(3, 2), r(1, 2)),
    Case("bilinear_functional", lambda T, a, b, w: F(T).bilinear(a, b, w), r(3, 2), r(3, 4),
         r(5, 2, 4)),
    # (appended: the RNG stream of the cases above is unchanged)
    Case("mha_bias_kv_zero_attn_masks", lambda T, q, k: layer(T, T.nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True), q, k, k,
        attn_mask=T.ones(3, 5).tril().bool().logical_not(),
        key_padding_mask=T.tensor([[False] * 4 + [True], [False] * 5])), r(3, 2, 4), r(5, 2, 4)),
    Case("mha_bias_kv_kdim_batch_first", lambda T, q, k, v: layer(T, T.nn.MultiheadAttention(
        4, 1, add_bias_kv=True, kdim=3, vdim=2, batch_first=True), q, k, v,
        attn_mask=r_mask(T), average_attn_weights=False), r(2, 3, 4), r(2, 5, 3), r(2, 5, 2)),
    Case("lstm_proj_two_layers_batch_first", lambda T, x: layer(T, T.nn.LSTM(
        3, 4, num_layers=2, proj_size=2, batch_first=True), x), r(2, 5, 3)),
    Case("lstm_proj_bidirectional_initial_state", lambda T, x, h, c: layer(T, T.nn.LSTM(
        3, 4, proj_size=3, bidirectional=True), x, (h, c)), r(4, 2, 3), r(2, 2, 3), r(2, 2, 4)),
    # -- CTC (inputs from their own generator: the table's stream above stays as it was) -------
    Case("ctc_loss_mean", lambda T, x, y: T.nn.functional.ctc_loss(
        x.log_softmax(2), y, [7, 5, 6], [3, 2, 3]), CTC_X, CTC_Y, compiled=True),
    Case("ctc_loss_flat_targets_sum", lambda T, x, y: T.nn.functional.ctc_loss(
        x.log_softmax(2), y, T.tensor([7, 7, 4]), T.tensor([3, 2, 1]), reduction="sum"),
         CTC_X, np.array([1, 2, 2, 3, 1, 4])),
    Case("ctc_loss_impossible_zero_infinity", lambda T, x, y: T.nn.functional.ctc_loss(
        x.log_softmax(2), y, [7, 5, 4], [3, 2, 3], reduction="none", zero_infinity=True),
         CTC_X, CTC_Y, compiled=True),
    Case("ctc_loss_unbatched_blank", lambda T, x, y: T.nn.CTCLoss(blank=4)(
        x.log_softmax(1), y, (6,), (3,)), CTC_X[:, 0], np.array([0, 0, 2])),
    Case("embedding_bag_modes", lambda T, w, i, o: tuple(
        T.nn.functional.embedding_bag(i, w, o, mode=m, padding_idx=p)
        for m in ("sum", "mean", "max") for p in (None, 4)), EB_W, EB_I, EB_O, compiled=True),
    Case("embedding_bag_2d_weighted", lambda T, w, i, p: (
        T.nn.functional.embedding_bag(i.reshape(2, 5), w, mode="sum", per_sample_weights=p),
        T.nn.functional.embedding_bag(i.reshape(2, 5), w, mode="mean", padding_idx=2)),
         EB_W, EB_I[:10], EB_P),
    Case("embedding_bag_module_last_offset", lambda T, i: layer(T, T.nn.EmbeddingBag(
        10, 4, include_last_offset=True, mode="max"), i, T.tensor([0, 3, 3, 7, 11])), EB_I),
    Case("bilinear_layer", lambda T, a, b: layer(T, T.nn.Bilinear(3, 4, 2), a, b),
         EB_W[:5, :3], EB_W[:5], compiled=True),
    Case("softmax2d_and_inplace_activations", lambda T, x: (
        T.nn.Softmax2d()(x), T.nn.functional.relu_(x * 1), T.nn.functional.elu_(x * 1, 0.5),
        T.nn.functional.leaky_relu_(x * 1, 0.2), T.nn.functional.hardtanh_(x * 1, -0.5, 0.5),
        T.nn.functional.celu_(x * 1), T.nn.functional.selu_(x * 1),
        T.nn.functional.threshold_(x * 1, 0.1, -2.0)), CTC_X[:4].reshape(1, 4, 3, 5)),
    Case("pads_1d_3d_circular", lambda T, v, s: (
        T.nn.ZeroPad1d((1, 2))(s), T.nn.CircularPad1d(2)(s), T.nn.CircularPad2d((1, 0, 2, 1))(v[0]),
        T.nn.ConstantPad3d(1, 2.5)(v), T.nn.ZeroPad3d((0, 1, 1, 0, 0, 1))(v),
        T.nn.ReflectionPad3d(1)(v), T.nn.ReplicationPad3d((1, 0, 0, 1, 2, 0))(v)),
         CTC_X[:4].reshape(1, 2, 2, 3, 5)[..., :4], EB_W[:6].reshape(2, 3, 4)),
    Case("fuse_conv_and_linear_bn_eval", lambda T, x, y: _fused(T, x, y), IMG[:, :, :4, :4],
         EB_W[:3].T.copy()),
    Case("fold_unfold", lambda T, x, a, b, c: (
        T.nn.Fold((4, 5), (2, 3))(a), T.nn.functional.fold(b, (5, 4), 2, dilation=(2, 1),
                                                          padding=1, stride=(1, 2)),
        T.nn.Fold((3, 3), 2, padding=1)(c), T.nn.Unfold(2, padding=1)(x)),
         IMG[:, :2, :3, :3], FOLD_A, FOLD_B, FOLD_C),
    Case("max_unpool", lambda T, x, s: tuple(
        [T.nn.MaxUnpool2d(2)(*T.nn.functional.max_pool2d(x, 2, return_indices=True)),
         T.nn.MaxUnpool2d(2, 2, 1)(*T.nn.MaxPool2d(2, 2, 1, return_indices=True)(x),
                                   output_size=(6, 6)),
         T.nn.MaxUnpool1d(2)(*T.nn.functional.max_pool1d_with_indices(s, 2)),
         T.nn.AdaptiveMaxPool1d(3)(s),
         T.nn.functional.max_pool2d_with_indices(x, 2)[1]]),
         IMG[:, :2], EB_W[:6].reshape(2, 3, 4)),
    Case("lp_pool_and_upsampling", lambda T, x, s: (
        T.nn.LPPool2d(2, 2)(x), T.nn.LPPool2d(3, (2, 3), stride=(1, 2))(x.abs() + 0.1),
        T.nn.LPPool1d(1.5, 2, stride=1)(s.abs() + 0.1), T.nn.functional.lp_pool1d(s, 2, 3),
        T.nn.UpsamplingNearest2d(scale_factor=2)(x), T.nn.UpsamplingBilinear2d(size=(5, 7))(x)),
         IMG[:, :2, :4, :5], EB_W[:6].reshape(2, 3, 4)),
    Case("interpolate_linear_modes", lambda T, x, s, v: (
        T.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
        T.nn.functional.interpolate(x, size=(7, 3), mode="bilinear", align_corners=True),
        T.nn.functional.interpolate(x, scale_factor=0.5, mode="bilinear"),
        T.nn.Upsample(scale_factor=1.5, mode="linear")(s),
        T.nn.functional.interpolate(v, scale_factor=(2, 1.5, 0.5), mode="trilinear")),
         IMG[:, :2, :4, :5], EB_W[:6].reshape(2, 3, 4), FOLD_B.reshape(1, 2, 3, 4, 5)),
    Case("pool3d", lambda T, v: (
        T.nn.MaxPool3d(2)(v), T.nn.functional.max_pool3d(v, (3, 2, 3), (2, 1, 2), (1, 0, 1),
                                                       (1, 2, 1), ceil_mode=True),
        T.nn.AvgPool3d(2)(v), T.nn.functional.avg_pool3d(v, 3, 2, 1, ceil_mode=True,
                                                         count_include_pad=False),
        T.nn.AvgPool3d((2, 3, 2), padding=1, divisor_override=5)(v),
        T.nn.AdaptiveAvgPool3d((3, 4, 2))(v), T.nn.AdaptiveMaxPool3d((2, 3, None))(v)),
         POOL3D, compiled=True),
    Case("embedding_bag_from_pretrained", lambda T, w, i: T.nn.EmbeddingBag.from_pretrained(
        w, padding_idx=3)(i, T.tensor([0, 3, 3, 7])), EB_W, EB_I, grad=()),
]


def _fused(T, x, y):
    """conv -> BatchNorm and linear -> BatchNorm1d folded by nn.utils.fuse_*_bn_eval."""
    rng = np.random.default_rng(3)
    conv, bn = T.nn.Conv2d(3, 4, 3).double().eval(), T.nn.BatchNorm2d(4).double().eval()
    lin, bn1 = T.nn.Linear(3, 4, bias=False).double().eval(), T.nn.BatchNorm1d(4).double().eval()
    with T.no_grad():
        for t in (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, lin.weight,
                  bn1.weight, bn1.bias, bn1.running_mean):
            t.copy_(T.tensor(rng.standard_normal(tuple(t.shape))))
        bn.running_var.copy_(T.tensor(rng.uniform(0.5, 2.0, 4)))
        bn1.running_var.copy_(T.tensor(rng.uniform(0.5, 2.0, 4)))
    fused = T.nn.utils.fuse_conv_bn_eval(conv, bn)
    fused_lin = T.nn.utils.fuse_linear_bn_eval(lin, bn1)
    return fused(x), bn(conv(x)), fused_lin(y), fused.weight * 1, fused_lin.weight * 1


def r_mask(T):
    """A float attention mask (3 queries, 5 keys)."""
    return T.tensor([[0.0, -1.0, 0.5, 0.0, -2.0], [0.3, 0.0, 0.0, -0.5, 0.0],
                     [0.0, 0.0, -1.5, 0.0, 0.2]], dtype=T.float64)
