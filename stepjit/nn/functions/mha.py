"""F.multi_head_attention_forward: the computation of nn.MultiheadAttention, with its weights
passed in (CLIP's attention pooling calls it with separate q/k/v projections).

Inputs are sequence-first, (L, N, E), or unbatched (L, E). add_bias_kv's bias_k/bias_v are
appended to the projected keys and values, then add_zero_attn's zero key and value per head:
each lengthens the key axis by one, and the masks gain a column that masks nothing (PyTorch's
order). static_k / static_v, (N * num_heads, S, head_dim), stand for the projected keys and
values.
"""
from __future__ import annotations

import math

from ...ops.creation import zeros
from ...ops.shape import cat
from ..functional import dropout, linear as _linear
from .attention import merge_masks


def _projections(e, in_proj_weight, in_proj_bias, separate, q_w, k_w, v_w):
    b = in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
    if separate:
        if q_w is None or k_w is None or v_w is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        return (q_w, bq), (k_w, bk), (v_w, bv)
    if in_proj_weight is None:
        raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
    w = in_proj_weight
    return (w[:e], bq), (w[e:2 * e], bk), (w[2 * e:], bv)


def _extend(mask):
    """mask with one more key column that masks nothing (False, or 0.0 for a float mask)."""
    if mask is None:
        return None
    pad = zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype, device=mask.device)
    return cat([mask, pad], -1)


def _heads(x, static, s, nh, d, what):
    if static is None:
        return x.reshape(s, nh, d).transpose(0, 1)
    if tuple(static.shape[:1]) + tuple(static.shape[2:]) != (nh, d):
        raise AssertionError(f"expecting static_{what}.size(0) of {nh} and size(2) of {d}, "
                             f"but got {tuple(static.shape)}")
    return static


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
        training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
        use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
        is_causal=False):
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    l, n, e = query.shape
    if e != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {e}")
    if e % num_heads:
        raise AssertionError(f"embed_dim {e} not divisible by num_heads {num_heads}")
    s, h, d = key.shape[0], num_heads, e // num_heads
    (wq, bq), (wk, bk), (wv, bv) = _projections(e, in_proj_weight, in_proj_bias,
                                                use_separate_proj_weight, q_proj_weight,
                                                k_proj_weight, v_proj_weight)
    q = _linear(query, wq, bq).reshape(l, n * h, d).transpose(0, 1)     # (N*h, L, d)
    k = None if static_k is not None else _linear(key, wk, bk)           # (S, N, E)
    v = None if static_v is not None else _linear(value, wv, bv)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.expand(1, n, e)])
        v = cat([v, bias_v.expand(1, n, e)])
        s, attn_mask, key_padding_mask = s + 1, _extend(attn_mask), _extend(key_padding_mask)
    k = _heads(k, static_k, s, n * h, d, "k")
    v = _heads(v, static_v, s, n * h, d, "v")
    s = k.shape[1]
    if add_zero_attn:
        k = cat([k, zeros((n * h, 1, d), dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros((n * h, 1, d), dtype=v.dtype, device=v.device)], 1)
        s, attn_mask, key_padding_mask = s + 1, _extend(attn_mask), _extend(key_padding_mask)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint")
    mask = merge_masks(attn_mask, key_padding_mask, n, h, l, s, q.dtype)
    scores = q.matmul(k.transpose(1, 2)) * (1.0 / math.sqrt(d))
    if mask is not None:
        scores = scores + mask
    attn = scores.softmax(-1)
    if dropout_p > 0.0 and training:
        attn = dropout(attn, dropout_p, True)
    out = attn.matmul(v).transpose(0, 1).reshape(l * n, e)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(l, n, e)
    if unbatched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = attn.reshape(n, h, l, s)
    if average_attn_weights:
        weights = weights.mean(1)
    return out, (weights.squeeze(0) if unbatched else weights)
