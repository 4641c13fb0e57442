"""torch.nn.attention.bias: causal masks as objects scaled_dot_product_attention accepts as
`attn_mask`.

`causal_upper_left(q, kv)` aligns the causal triangle with the top-left corner of the
(q, kv) score matrix (query i sees keys 0..i, what `is_causal=True` does);
`causal_lower_right(q, kv)` with the bottom-right corner (the last query sees every key:
decoding with a cache). Here a CausalBias is a Tensor holding the materialized boolean mask
(True = attend), so SDPA, printing and a compiled step treat it as the mask it stands for;
PyTorch keeps it unmaterialized to pick fused kernels, which stepjit does not have.
"""
from __future__ import annotations

import enum

import numpy as np

from ...tensor import Tensor

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """The (seq_len_q, seq_len_kv) causal mask of `variant`, as a boolean tensor."""

    @classmethod
    def _of(cls, variant, seq_len_q, seq_len_kv):
        shift = 0 if variant is CausalVariant.UPPER_LEFT else seq_len_kv - seq_len_q
        mask = np.tril(np.ones((seq_len_q, seq_len_kv), dtype=bool), k=shift)
        bias = cls._make(mask)
        bias.variant, bias.seq_len_q, bias.seq_len_kv = variant, seq_len_q, seq_len_kv
        return bias

    def _materialize(self, device=None):
        return Tensor._make(self._data.copy())


def _lengths(args, op):
    if len(args) != 2 or not all(isinstance(n, int) and n >= 0 for n in args):
        raise ValueError(f"{op} expects two sequence lengths (seq_len_q, seq_len_kv), got {args}")
    return args


def causal_upper_left(*size):
    return CausalBias._of(CausalVariant.UPPER_LEFT, *_lengths(size, "causal_upper_left"))


def causal_lower_right(*size):
    return CausalBias._of(CausalVariant.LOWER_RIGHT, *_lengths(size, "causal_lower_right"))
