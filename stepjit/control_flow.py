"""torch.cond and torch.while_loop, PyTorch's structured control flow, run as the Python
they stand for: `cond` calls the branch its predicate picks, `while_loop` calls the body
while its condition holds. Inside a compiled step a tensor predicate is a data-dependent
decision like any `if t:` (the trace records the branch taken and is guarded on it), so
the results equal eager's."""
from __future__ import annotations

from .tensor import Tensor


def _truth(pred, op):
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"{op}: expected the predicate to be a tensor with one element, "
                               f"got shape {list(pred.shape)}")
        return bool(pred)
    if isinstance(pred, (bool, int, float)):
        return bool(pred)
    raise RuntimeError(f"{op}: expected pred to be a bool or a tensor with one element, got "
                       f"{type(pred).__name__}")


def cond(pred, true_fn, false_fn, operands=()):
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"cond: expected operands to be a tuple or a list, got "
                           f"{type(operands).__name__}")
    return (true_fn if _truth(pred, "cond") else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Apply body_fn to the carried values while cond_fn of them holds; the final values,
    as a tuple."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"while_loop: carried_inputs must be a tuple or a list, got "
                           f"{type(carried_inputs).__name__}")
    carried = tuple(carried_inputs)
    while _truth(cond_fn(*carried), "while_loop"):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(carried) != len(carried_inputs):
            raise RuntimeError(f"while_loop: body_fn returned {len(carried)} values for "
                               f"{len(carried_inputs)} carried inputs")
    return carried
