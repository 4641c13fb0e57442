"""scaled_dot_product_attention and multi_head_attention_forward (PyTorch's formulas).

attn = softmax(q k^T * scale + mask) (dropout on attn) @ v. A bool mask marks the
positions that take part (False -> -inf before the softmax); a float mask is added.
"""
from __future__ import annotations

import math

from ...errors import ShapeError, op_error, user_location
from ...ir.primitives.shapes import fmt
from ...ops.elementwise import where
from ...ops.creation import arange, zeros
from ...ir.types import bool_
from ..functional import dropout


def _attention_weights(query, key, attn_mask, is_causal, scale):
    if query.shape[-1] != key.shape[-1]:
        raise op_error(ShapeError(f"query {fmt(query.shape)} and key {fmt(key.shape)} must have "
                                  f"the same embedding size"), "scaled_dot_product_attention")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    l, s = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                             "when is_causal=True")
        attn_mask = arange(s, device=query.device) <= arange(l, device=query.device).unsqueeze(1)
    if attn_mask is not None:
        if attn_mask.dtype is _bool():
            scores = where(attn_mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
    return scores.softmax(-1)


def _bool():
    return bool_


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    if enable_gqa and query.shape[-3] != key.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    attn = _attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(value)


def merge_masks(attn_mask, key_padding_mask, n, heads, l, s, dtype):
    """One additive float mask (N*heads, L, S) from MultiheadAttention's two masks."""
    mask = None
    if attn_mask is not None:
        want = (n * heads, l, s) if attn_mask.ndim == 3 else (l, s)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"MultiheadAttention: the shape of the {attn_mask.ndim}D attn_mask "
                               f"is {list(attn_mask.shape)}, but should be {list(want)} (at "
                               f"{user_location()})")
        mask = _as_float_mask(attn_mask, dtype)
        mask = mask.reshape(-1, l, s) if mask.ndim == 3 else mask.reshape(1, l, s)
    if key_padding_mask is not None:
        kpm = _as_float_mask(key_padding_mask, dtype, padding=True)   # True = ignore
        kpm = kpm.reshape(n, 1, 1, s).expand(n, heads, 1, s).reshape(n * heads, 1, s)
        mask = kpm if mask is None else mask + kpm
    return mask


def _as_float_mask(mask, dtype, padding=False):
    if mask.dtype is _bool():   # in MultiheadAttention, True means "do not attend"
        return where(mask, float("-inf"), zeros(tuple(mask.shape), dtype=dtype,
                                                device=mask.device))
    return mask.to(dtype)
