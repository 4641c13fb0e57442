"""MultiheadAttention with PyTorch's parameters (in_proj_weight/bias, out_proj, or separate
q/k/v projections when kdim/vdim differ), masks and averaged attention weights.

add_bias_kv appends a learned key and value (bias_k, bias_v) to every sequence's keys and
values after their projection; add_zero_attn then appends a zero key and value per head. Both
lengthen the key axis by one, so the masks gain a column that masks nothing (PyTorch's order).
"""
from __future__ import annotations

import math

from ...ops.creation import empty, zeros
from ...ops.shape import cat
from .. import functional as F
from .. import init
from ..functions.attention import merge_masks
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        kw = dict(dtype=dtype, device=device)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self):
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            return (w[:e], bq), (w[e:2 * e], bk), (w[2 * e:], bv)
        return (self.q_proj_weight, bq), (self.k_proj_weight, bk), (self.v_proj_weight, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        l, n, e = query.shape
        s = key.shape[0]
        h, d = self.num_heads, self.head_dim
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        q = F.linear(query, wq, bq).reshape(l, n * h, d).transpose(0, 1)   # (N*h, L, d)
        k, v = F.linear(key, wk, bk), F.linear(value, wv, bv)              # (S, N, E)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, n, e)])
            v = cat([v, self.bias_v.expand(1, n, e)])
            s, attn_mask, key_padding_mask = s + 1, _extend(attn_mask), _extend(key_padding_mask)
        k = k.reshape(s, n * h, d).transpose(0, 1)
        v = v.reshape(s, n * h, d).transpose(0, 1)
        if self.add_zero_attn:
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
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = attn.matmul(v).transpose(0, 1).reshape(l * n, e)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(l, n, e)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = attn.reshape(n, h, l, s)
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights.squeeze(0) if unbatched else weights)


def _extend(mask):
    """mask with one more key column that masks nothing (False, or 0.0 for a float mask)."""
    if mask is None:
        return None
    pad = zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype, device=mask.device)
    return cat([mask, pad], -1)
