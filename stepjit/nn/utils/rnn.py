"""nn.utils.rnn.pad_sequence: a list of variable-length sequences as one padded tensor."""
from __future__ import annotations

from ...ops.creation import full
from ...ops.shape import cat, stack


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Each (L_i, *) sequence padded to the longest L: (L, N, *) or (N, L, *)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        if extra:
            pad = full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                       device=s.device)
            parts = [s, pad] if padding_side == "right" else [pad, s]
            s = cat(parts, 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)
