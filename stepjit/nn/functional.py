"""`nn.functional`: activations, linear, dropout and losses as composites of tensor ops.

Nothing here touches NumPy: every function is written with stepjit tensor ops,
so autograd differentiates it through the primitives' VJP rules and a tracer
sees only primitives (DESIGN §2). Where PyTorch has a fused kernel with its own
backward (BCE, cross entropy), the composite is chosen so that its values and
its gradients match PyTorch's, including at ties (see the notes per function).
The last node of a loss is renamed to PyTorch's backward name (MseLossBackward0).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..dispatch import apply, trace_device
from ..errors import IndexingError, op_error, user_location
from ..ir import primitives as P
from ..ir.types import FLOAT, int64
from ..ops.creation import arange, rand
from ..ops.elementwise import abs, exp, log, log1p, maximum, where
from ..ops.index import take_along_dim
from ..ops.reduce import _rename, count
from ..ops.shape import tensor_arg
from ..ops.reduce import log_softmax as _log_softmax
from ..ops.reduce import softmax as _softmax

# -- activations ---------------------------------------------------------------------


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _softmax_dim(name, ndim):
    """PyTorch's legacy choice of dim when none is given (with its warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _log_softmax(input, dim, dtype=dtype)


def linear(input, weight, bias=None):
    tensor_arg(input, "linear", "input", 1)
    tensor_arg(weight, "linear", "weight", 2)
    wt = weight.t()
    out = input.matmul(wt)
    if bias is None:
        return out
    out = out + bias
    return _rename(out, "AddmmBackward0", bias, input, wt) if input.ndim == 2 else out


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p (mask from stepjit's RNG), scale the rest by 1/(1-p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        noise = input.new_zeros(*input.shape)
    else:
        keep = rand(tuple(input.shape), dtype=input.dtype, device=input.device) < (1.0 - p)
        noise = keep.to(input.dtype) / (1.0 - p)  # ATen: bernoulli_(1-p).div_(1-p), then mul
    return input.mul_(noise) if inplace else input * noise


def one_hot(tensor, num_classes=-1):
    if tensor.dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0
    return (tensor.unsqueeze(-1) == arange(num_classes)).long()


# -- losses --------------------------------------------------------------------------


def _legacy_reduction(size_average, reduce):
    """Map the deprecated size_average/reduce flags onto a reduction string, as PyTorch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduce(loss, reduction, name, *inputs):
    """loss reduced; its last node named `name` (None: the reduction's own), with edges to
    `inputs` (see _rename)."""
    if reduction == "mean":
        out = loss.mean()
    elif reduction == "sum":
        out = loss.sum()
    elif reduction == "none":
        out = loss
    else:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return out if name is None else _rename(out, name, *inputs)


def _resolve(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _warn_size(input, target, name):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target, "mse_loss")
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _resolve(size_average, reduce, reduction), "MseLossBackward0", input,
                   target)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target, "l1_loss")
    loss = abs(input - target)
    if weight is not None:
        loss = loss * weight
    # (PyTorch's l1_loss is itself mean(abs(input - target)): its graph shows those nodes)
    return _reduce(loss, _resolve(size_average, reduce, reduction), None)


def _clamped_log(x):
    """log(x) clamped below at -100 (PyTorch's BCE); at x == 0 the gradient is 0, not NaN."""
    positive = x > 0
    safe = where(positive, x, 1.0)  # log never sees 0, so its VJP never divides by 0
    return where(positive, log(safe).clamp(min=-100.0), -100.0)


def _check_probabilities(input):
    """PyTorch's BCE rejects inputs outside [0, 1] (and NaN). A primitive, so that a compiled
    step checks its values too: its loops compute the flag, its program raises this error."""
    if input.device.type == "cpu" and trace_device(input).type == "cpu":  # (not on CUDA yet)
        apply(P.check_range, input.detach(), axis=None, keepdims=False, lo=0.0, hi=1.0,
              op="binary_cross_entropy")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    _check_probabilities(input)
    x = input.detach()
    loss = -(target * _clamped_log(x) + (1 - target) * _clamped_log(1 - x))
    if input.requires_grad:
        # PyTorch's input gradient, (x - y) / max(x (1 - x), 1e-12), not the clamped logs'
        # own (which is 0 where a log is clamped and overflows near 0 and 1): added as a
        # term that is exactly 0 in value and has that gradient.
        slope = ((x - target) / (x * (1 - x)).clamp(min=1e-12)).detach()
        loss = loss + (input - x) * slope
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _resolve(size_average, reduce, reduction), "BinaryCrossEntropyBackward0",
                   input, target, *([weight] if weight is not None else []))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """max(x,0) - x*y + log1p(exp(-|x|)): never exponentiates a large positive number.

    `maximum(x, 0)` (not relu) because its VJP splits the gradient at the tie x == 0,
    which gives PyTorch's gradient sigmoid(0) - y = 0.5 - y at zero logits.
    """
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    softplus_neg = log1p(exp(-abs(input)))  # log(1 + exp(-|x|))
    if pos_weight is None:
        loss = maximum(input, 0.0) - input * target + softplus_neg
    else:
        # -log(sigmoid(x)) = max(-x, 0) + log1p(exp(-|x|)), weighted on the positive term.
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * (maximum(-input, 0.0) + softplus_neg)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _resolve(size_average, reduce, reduction),
                   "BinaryCrossEntropyWithLogitsBackward0", input, target,
                   *[w for w in (weight, pos_weight) if w is not None])


def _check_batch(input, target):
    where = f" (at {user_location(3)})"
    if target.dtype is not int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name}{where}")
    # a 0-d target against a batch (PyTorch 0.3 code's `criterion(out, target[t])`) counts as
    # a batch of 0, as PyTorch reports it: ValueError, not the dimension RuntimeError below
    batch = target.shape[0] if target.ndim else 0
    if input.ndim >= 2 and input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}).{where}")
    if input.ndim != target.ndim + 1:
        raise RuntimeError(f"expected target of {input.ndim - 1} dimensions for input of shape "
                           f"{list(input.shape)}, got target of shape {list(target.shape)}{where}")


def _check_classes(input, target, ignore_index):
    """PyTorch's IndexError for a class index outside [0, C) that is not ignore_index. Eager
    tensors only: a compiled step's gather checks its indices itself (and names its line)."""
    t = target._data
    if type(t) is not np.ndarray or not t.size:
        return
    n = input.shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= n))
    if bad.any():
        v = t[bad].flat[0]
        raise IndexingError(f"nll_loss: Target {v} is out of bounds: class index {v} is out of "
                            f"bounds for input of shape {list(input.shape)} (classes 0 to "
                            f"{n - 1}; target of shape {list(target.shape)}) (at "
                            f"{user_location(3)})")


def _class_weights(target, weight, ignore_index, dtype):
    """(safe target, per-element weight): ignored positions get class 0 and weight 0."""
    keep = target != ignore_index
    safe = where(keep, target, 0)
    w = keep.to(dtype)
    if weight is not None:
        w = w * weight[safe]
    return safe, w


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[n, target[n], ...] * weight[target[n]]; 'mean' divides by the summed weights."""
    reduction = _resolve(size_average, reduce, reduction)
    if input.ndim == 1:  # unbatched: (C,) with a 0-d target
        out = nll_loss(input.unsqueeze(0), target.unsqueeze(0), weight, None, ignore_index, None,
                       reduction)
        return out.squeeze(0) if reduction == "none" else out
    _check_batch(input, target)
    _check_classes(input, target, ignore_index)
    safe, w = _class_weights(target, weight, ignore_index, input.dtype)
    picked = take_along_dim(input, safe.unsqueeze(1), 1).squeeze(1)
    loss = -picked * w
    if reduction == "mean":
        return _rename(loss.sum() / w.sum(), "NllLossBackward0", input)
    return _reduce(loss, reduction, "NllLossBackward0", input)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 then NLL (class indices) or -sum(p * logp) (class probabilities)."""
    reduction = _resolve(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    logp = _log_softmax(input, class_dim)
    if target.dtype.category == FLOAT:
        return _rename(_soft_cross_entropy(logp, target, weight, reduction, label_smoothing,
                                           class_dim), "CrossEntropyLossBackward0")
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0.0:
        return nll
    smooth = _smoothing_term(logp, target, weight, ignore_index, reduction, class_dim)
    return nll * (1 - label_smoothing) + smooth * label_smoothing


def _class_shape(logp, class_dim):
    """Shape that lines a (C,) weight up with the class dim of logp."""
    shape = [1] * logp.ndim
    shape[class_dim] = logp.shape[class_dim]
    return shape


def _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_dim):
    if tuple(target.shape) != tuple(logp.shape):
        raise RuntimeError(f"Expected target size {list(logp.shape)}, got {list(target.shape)}")
    n_classes = logp.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * weight.reshape(_class_shape(logp, class_dim))
    loss = -terms.sum(class_dim)
    if reduction == "mean":  # PyTorch divides by the batch elements, not by the weights
        batch = tuple(d for d in range(logp.ndim) if d != class_dim)
        return loss.sum() / (count(logp, batch) if logp.numel() // n_classes else 1)
    return _reduce(loss, reduction, "CrossEntropyLossBackward0")


def _smoothing_term(logp, target, weight, ignore_index, reduction, class_dim):
    """The uniform-target part of label smoothing: -sum_c w_c logp_c / C per element."""
    unbatched = logp.ndim == 1
    if unbatched:
        logp, target, class_dim = logp.unsqueeze(0), target.unsqueeze(0), 1
    n_classes = logp.shape[class_dim]
    safe, w = _class_weights(target, weight, ignore_index, logp.dtype)
    terms = logp if weight is None else logp * weight.reshape(_class_shape(logp, class_dim))
    keep = (target != ignore_index).to(logp.dtype)
    loss = -terms.sum(class_dim) * keep / n_classes
    if reduction == "mean":
        return loss.sum() / w.sum()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def bilinear(input1, input2, weight, bias=None):
    out = einsum("bi,oij,bj->bo", input1.reshape(-1, input1.shape[-1]), weight,
                 input2.reshape(-1, input2.shape[-1]))
    out = out.reshape(tuple(input1.shape[:-1]) + (weight.shape[0],))
    return out if bias is None else out + bias


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    """Whole channels zeroed: the mask has the input's (N, C) and ones elsewhere."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    batched = input.ndim == batched_ndim
    shape = tuple(input.shape[:2] if batched else input.shape[:1])
    shape = shape + (1,) * (input.ndim - len(shape))
    if p == 1.0:
        noise = input.new_zeros(*shape)
    else:
        noise = (rand(shape, dtype=input.dtype, device=input.device) < (1.0 - p)).to(
            input.dtype) / (1.0 - p)
    return input.mul_(noise) if inplace else input * noise


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """SELU-preserving dropout: dropped units take the negative saturation value, then an
    affine map restores mean and variance (PyTorch's constants)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _alpha_dropout(input, p, inplace, tuple(input.shape))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout over whole channels: one draw per (sample, channel), as Dropout2d's."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise op_error(RuntimeError(f"Feature dropout requires at least 2 dimensions in the "
                                    f"input (got shape {list(input.shape)})"),
                       "feature_alpha_dropout")
    return _alpha_dropout(input, p, inplace, tuple(input.shape[:2]) + (1,) * (input.ndim - 2))


def native_channel_shuffle(input, groups):
    return channel_shuffle(input, groups)


def has_torch_function(relevant_args):
    """Whether any argument overrides __torch_function__: stepjit's tensors never do."""
    return any(hasattr(type(a), "__torch_function__") for a in relevant_args)


def has_torch_function_unary(input):
    return has_torch_function((input,))


def has_torch_function_variadic(*args):
    return has_torch_function(args)


def _alpha_dropout(input, p, inplace, noise_shape):
    if p == 1.0:
        return input * 0.0
    alpha = 1.7580993408473766
    keep = (rand(noise_shape, dtype=input.dtype, device=input.device) < (1.0 - p)).to(
        input.dtype)
    a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
    b = (1 - keep) * (-alpha * a)
    out = input * keep * a + b + alpha * a * p
    return input.copy_(out) if inplace else out


from .functions.activations import (  # noqa: E402,F401
    celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid,
    gumbel_softmax, mish, prelu, relu6, rrelu, selu, silu, softmin, softplus, softshrink, softsign,
    tanhshrink, threshold)
from .functions.attention import scaled_dot_product_attention  # noqa: E402,F401


def _inplace_form(fn):
    """F.relu_(x, ...) is F.relu(x, ..., inplace=True), as PyTorch's in-place spellings."""
    def inplace(input, *args, **kwargs):
        return fn(input, *args, inplace=True, **kwargs)
    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    return inplace


relu_, elu_, leaky_relu_, hardtanh_, celu_, selu_, rrelu_, threshold_ = (
    _inplace_form(f) for f in (relu, elu, leaky_relu, hardtanh, celu, selu, rrelu, threshold))
from .functions.conv import (  # noqa: E402,F401
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
    conv1d, conv2d, conv_transpose2d, interpolate, max_pool1d, max_pool2d, pad, unfold)
from .functions.losses import (  # noqa: E402,F401
    cosine_embedding_loss, cosine_similarity, gaussian_nll_loss, hinge_embedding_loss,
    huber_loss, kl_div, margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
    multilabel_soft_margin_loss, pairwise_distance, poisson_nll_loss, smooth_l1_loss,
    soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss)
from .functions.ctc import ctc_loss  # noqa: E402,F401
from .functions.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d  # noqa: E402,F401
from .functions.pool3d import (  # noqa: E402,F401
    adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d)
from .functions.fold import (  # noqa: E402,F401
    adaptive_max_pool1d, fold, max_pool1d_with_indices, max_pool2d_with_indices, max_unpool1d,
    max_unpool2d)
from .functions.norm import (  # noqa: E402,F401
    batch_norm, embedding, group_norm, layer_norm, normalize, rms_norm)
from .functions.embedding_bag import embedding_bag  # noqa: E402,F401
from .functions.mha import multi_head_attention_forward  # noqa: E402,F401
from .functions.fold import (  # noqa: E402,F401
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices)
from .functions.pool3d import adaptive_max_pool3d_with_indices  # noqa: E402,F401
from ..ops.series import pdist  # noqa: E402,F401
from .functions.rnn import gru_cell, lstm_cell, rnn_cell  # noqa: E402,F401
from .functions.vision import (  # noqa: E402,F401
    channel_shuffle, instance_norm, local_response_norm, pixel_shuffle, pixel_unshuffle)
from .functions.volumetric import conv3d, conv_transpose1d, conv_transpose3d  # noqa: E402,F401
from .functions.sampling_grid import affine_grid, grid_sample  # noqa: E402,F401
from ..ops.contract import einsum  # noqa: E402  (bilinear)


def _deprecated_resize(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


# PyTorch's deprecated names for interpolate, still in tutorials (`F.upsample(x, scale_factor=2)`)
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    _deprecated_resize("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _deprecated_resize("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _deprecated_resize("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout", "one_hot",
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "bilinear", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout", "pdist", "lp_pool3d", "native_channel_shuffle", "multi_head_attention_forward",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "leaky_relu", "logsigmoid", "mish", "prelu", "relu6", "selu", "silu", "softmin", "softplus",
    "softshrink", "softsign", "tanhshrink", "threshold", "scaled_dot_product_attention",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d",
    "avg_pool2d", "conv1d", "conv2d", "conv_transpose2d", "interpolate", "max_pool1d",
    "max_pool2d", "pad", "pixel_shuffle", "unfold", "cosine_embedding_loss", "cosine_similarity",
    "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div", "margin_ranking_loss",
    "multi_margin_loss", "multilabel_soft_margin_loss", "pairwise_distance", "poisson_nll_loss",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss", "batch_norm", "embedding",
    "embedding_bag",
    "group_norm", "layer_norm", "normalize", "rms_norm",
    "channel_shuffle", "instance_norm", "local_response_norm", "pixel_unshuffle", "conv3d",
    "conv_transpose1d", "conv_transpose3d", "affine_grid", "grid_sample", "gumbel_softmax", "rrelu",
    "multilabel_margin_loss", "triplet_margin_with_distance_loss",
    "upsample", "upsample_nearest", "upsample_bilinear",
]
