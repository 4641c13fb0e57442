"""The `torch.*` forms of nn.functional ops (`torch.conv2d`, `torch.dropout`, ...), which
scripts call as often as the F forms. Where PyTorch's torch-level signature equals F's the
name is F's function; where it differs, a wrapper maps PyTorch's arguments onto F's:
`torch.dropout(input, p, train)` has no defaults, `torch.embedding(weight, indices)` takes the
weight first, `torch.batch_norm` / `torch.instance_norm` take the affine weight before the
running statistics, and the normalizations take a trailing `cudnn_enabled` that means nothing
here."""
from __future__ import annotations

from . import functional as F

SAME = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
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


FORMS = {name: getattr(F, name) for name in SAME}
FORMS.update(dropout=dropout, alpha_dropout=alpha_dropout, layer_norm=layer_norm,
             group_norm=group_norm, batch_norm=batch_norm, instance_norm=instance_norm,
             embedding=embedding)
