"""F.ctc_loss: Connectionist Temporal Classification, the forward (alpha) recursion in log
space written with tensor ops, so its gradient is the primitives' VJPs through the recursion
(the alpha-beta gradient, derived by autodiff rather than written a second time).

Each target is extended with blanks (b, l1, b, l2, ..., b: 2S+1 states); at every time step
a state's log probability is the log-sum-exp of itself, its predecessor and, unless it is a
blank or repeats the label two states back, the state before that, plus the log probability
of its label. Steps past a sample's input length leave its states as they were; its loss is
minus the log-sum-exp of its last two states. The log-sum-exp reads an all-`-inf` set of
terms as `-inf` with zero gradient (no 0/0), so an impossible alignment gives an infinite
loss whose gradient is 0 after `zero_infinity`, as PyTorch's.

PyTorch's own backward returns, for each log-probability, this exact gradient plus
exp(log_probs) (a term that sums to zero through the log_softmax that produces them): the
gradients of the logits before a log_softmax agree; the gradient of a log_probs leaf differs
by exp(log_probs).
"""
from __future__ import annotations

import math

from ...errors import ShapeError, op_error
from ...ir.types import FLOAT, int64
from ...ops.creation import arange, full, tensor
from ...ops.elementwise import exp, log, maximum, where
from ...ops.shape import cat, stack
from ...tensor import Tensor

NEG_INF = -math.inf


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    if log_probs.dtype.category != FLOAT:
        raise op_error(ShapeError(f"ctc_loss expects floating log_probs, got "
                                  f"{log_probs.dtype.name}"), "ctc_loss")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 else targets
        input_lengths, target_lengths = _as_list(input_lengths), _as_list(target_lengths)
    if log_probs.ndim != 3:
        raise op_error(ShapeError(f"ctc_loss expects log_probs of shape (T, N, C) or (T, C), "
                                  f"got {list(log_probs.shape)}"), "ctc_loss")
    T, N, C = log_probs.shape
    in_len = _lengths(input_lengths, N, "input_lengths", log_probs.device)
    tl = _lengths(target_lengths, N, "target_lengths", log_probs.device)
    _check(input_lengths, target_lengths, T, N, C, blank)
    labels = _padded_targets(targets, target_lengths, tl, N)
    nll = _nll(log_probs, labels, in_len, tl, blank)
    if zero_infinity:
        nll = where(nll == math.inf, 0.0, nll)
    if unbatched and reduction == "none":
        return nll.squeeze(0)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        return (nll / tl.clamp(min=1).to(nll.dtype)).mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _as_list(lengths):
    if isinstance(lengths, Tensor):
        return lengths.reshape(1)
    return [lengths] if isinstance(lengths, int) else list(lengths)


def _lengths(lengths, n, name, device):
    t = lengths if isinstance(lengths, Tensor) else tensor(list(lengths), dtype=int64,
                                                            device=device)
    t = t.reshape(-1).to(int64)
    if t.shape[0] != n:
        raise op_error(ShapeError(f"ctc_loss: {name} must have length {n} (the batch), got "
                                  f"{t.shape[0]}"), "ctc_loss")
    return t


def _check(input_lengths, target_lengths, T, N, C, blank):
    """PyTorch's checks on values given as Python numbers (tensors' values are not read)."""
    if not 0 <= blank < C:
        raise op_error(ShapeError(f"blank must be in label range, got {blank} for {C} "
                                  "classes"), "ctc_loss")
    if not isinstance(input_lengths, Tensor):
        for n in input_lengths:
            if n > T:
                raise op_error(ShapeError(f"Expected input_lengths to have value at most {T}, "
                                          f"but got value {n}"), "ctc_loss")
    if not isinstance(target_lengths, Tensor):
        for n in target_lengths:
            if n < 0:
                raise op_error(ShapeError(f"target_lengths must be non-negative, got {n}"),
                               "ctc_loss")


def _padded_targets(targets, target_lengths, tl, n):
    """(N, S) labels: the 2-D targets as given, or the concatenated 1-D form cut per sample
    (padding repeats a sample's last label; padding is never read)."""
    if targets.ndim == 2:
        return targets.to(int64)
    lengths = [int(v) for v in (target_lengths.tolist() if isinstance(target_lengths, Tensor)
                                else target_lengths)]
    s = max(lengths + [1])
    starts = tl.cumsum(0) - tl
    idx = (starts.unsqueeze(1) + arange(s, device=targets.device).unsqueeze(0))
    idx = idx.clamp(max=max(targets.shape[0] - 1, 0))
    if targets.shape[0] == 0:
        return full((n, s), 0, dtype=int64, device=targets.device)
    return targets.to(int64)[idx]


def _nll(log_probs, labels, in_len, tl, blank):
    T, N, _ = log_probs.shape
    S = labels.shape[1]
    blanks = full((N, S), blank, dtype=int64, device=labels.device)
    ext = cat([stack([blanks, labels], dim=2).reshape(N, 2 * S),
               full((N, 1), blank, dtype=int64, device=labels.device)], dim=1)   # (N, 2S+1)
    lp = log_probs.gather(2, ext.unsqueeze(0).expand(T, N, 2 * S + 1))        # (T, N, 2S+1)
    two_back = cat([full((N, 2), -1, dtype=int64, device=ext.device), ext[:, :-2]], dim=1)
    skip = (ext != blank).logical_and(ext != two_back)
    pad1 = full((N, 1), NEG_INF, dtype=lp.dtype, device=lp.device)
    pad2 = full((N, 2), NEG_INF, dtype=lp.dtype, device=lp.device)
    states = arange(2 * S + 1, device=ext.device).unsqueeze(0)
    alpha = where(states < 2, lp[0], NEG_INF)
    for t in range(1, T):
        prev1 = cat([pad1, alpha[:, :-1]], dim=1)
        prev2 = where(skip, cat([pad2, alpha[:, :-2]], dim=1), NEG_INF)
        step = _logsumexp3(alpha, prev1, prev2) + lp[t]
        alpha = where((t < in_len).unsqueeze(1), step, alpha)
    last = (2 * tl).unsqueeze(1)
    end = alpha.gather(1, last).squeeze(1)
    before = alpha.gather(1, (last - 1).clamp(min=0)).squeeze(1)
    before = where(tl > 0, before, NEG_INF)
    return -_logsumexp3(end, before, None)


def _logsumexp3(a, b, c):
    """log(exp a + exp b [+ exp c]) elementwise; -inf, with zero gradient, where every term
    is -inf."""
    terms = [x for x in (a, b, c) if x is not None]
    m = terms[0]
    for x in terms[1:]:
        m = maximum(m, x)
    m = where(m == NEG_INF, 0.0, m).detach()
    total = exp(terms[0] - m)
    for x in terms[1:]:
        total = total + exp(x - m)
    empty = total == 0
    return where(empty, NEG_INF, log(where(empty, 1.0, total)) + m)
