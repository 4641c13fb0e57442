"""The `torch.*` forms of nn.functional ops (`torch.conv2d`, `torch.dropout`, ...), which
scripts call as often as the F forms. Where PyTorch's torch-level signature equals F's the
name is F's function; where it differs, a wrapper maps PyTorch's arguments onto F's:
`torch.dropout(input, p, train)` has no defaults, `torch.embedding(weight, indices)` takes the
weight first, `torch.batch_norm` / `torch.instance_norm` take the affine weight before the
running statistics, and the normalizations take a trailing `cudnn_enabled` that means nothing
here."""
from __future__ import annotations

from . import functional as F

SAME = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "max_pool3d", "max_pool1d_with_indices", "max_pool1d",
        "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle",
        "selu", "celu", "threshold", "prelu", "hardshrink", "bilinear", "rrelu",
        "channel_shuffle", "cosine_similarity", "pairwise_distance")


def dropout(input, p, train):
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as PyTorch's torch-level form always returns."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


# The losses' torch-level forms take the reduction as PyTorch's enum: 0 none, 1 mean, 2 sum.
# Left out it is 0 in PyTorch 2.x's bindings (torch.kl_div(x, t) is elementwise), though the
# schemas say Mean: the behaviour is what programs see, so it is the default here.
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(value, op):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not {type(value).__name__}")
    if value not in (0, 1, 2):
        raise ValueError(f"{value} is not a valid value for reduction")
    return _REDUCTIONS[value]


def kl_div(input, target, reduction=0, *, log_target=False):
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"),
                    log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction(reduction, "hinge_embedding_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return F.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h, c) from hx = (h, c), as PyTorch's."""
    return F.lstm_cell(input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return F.rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return F.rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "relu")


def feature_dropout(input, p, train):
    """Dropout of whole (sample, channel) slices: dropout2d's mask for any rank >= 2."""
    return F._feature_dropout(input, p, train, False, input.ndim, "feature_dropout")


def _dropout_inplace(fn):
    def inplace(input, p, train):
        return fn(input, p, train, True)
    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    return inplace


def feature_dropout_(input, p, train):
    return F._feature_dropout(input, p, train, True, input.ndim, "feature_dropout_")


FORMS = {name: getattr(F, name) for name in SAME}
FORMS.update(dropout=dropout, alpha_dropout=alpha_dropout, layer_norm=layer_norm,
             group_norm=group_norm, batch_norm=batch_norm, instance_norm=instance_norm,
             embedding=embedding, feature_alpha_dropout=feature_alpha_dropout,
             rms_norm=rms_norm, adaptive_max_pool1d=adaptive_max_pool1d,
             constant_pad_nd=constant_pad_nd, kl_div=kl_div,
             binary_cross_entropy_with_logits=binary_cross_entropy_with_logits,
             margin_ranking_loss=margin_ranking_loss, cosine_embedding_loss=cosine_embedding_loss,
             hinge_embedding_loss=hinge_embedding_loss, poisson_nll_loss=poisson_nll_loss,
             triplet_margin_loss=triplet_margin_loss, ctc_loss=ctc_loss, gru_cell=gru_cell,
             lstm_cell=lstm_cell, rnn_tanh_cell=rnn_tanh_cell, rnn_relu_cell=rnn_relu_cell,
             feature_dropout=feature_dropout, feature_dropout_=feature_dropout_,
             dropout_=_dropout_inplace(F.dropout),
             alpha_dropout_=_dropout_inplace(F.alpha_dropout),
             feature_alpha_dropout_=_dropout_inplace(F.feature_alpha_dropout),
             native_channel_shuffle=F.native_channel_shuffle, celu_=F.celu_, selu_=F.selu_,
             rrelu_=F.rrelu_, threshold_=F.threshold_)

# Tensor methods PyTorch has for these (x.prelu(w), x.hardshrink(l)); api.py binds them.
TENSOR_METHODS = {"prelu": F.prelu, "hardshrink": F.hardshrink}
