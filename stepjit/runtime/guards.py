"""Does a cached trace apply to this call? Checked before every compiled call, so kept cheap:
a tuple comparison for the arguments and a few attribute reads per touched tensor."""
from __future__ import annotations

from ..autograd.grad_mode import STATE as GRAD


def resolve(trace, flat):
    """The real tensor behind each slot of the trace for this call, or None if one is missing."""
    objs = []
    for spec in trace.slots:
        kind, where = spec.slot
        if kind == "arg":
            obj = flat[where]
        elif kind == "obj":
            obj = where
        else:
            obj = objs[where]._grad
            if obj is None:
                return None
        objs.append(obj)
    return objs


def failed_guard(trace, treedef, signature, objs):
    """None when the trace applies; otherwise a sentence naming the first guard that failed."""
    if trace.grad_enabled != GRAD.enabled:
        return f"grad mode changed (traced with grad {'on' if trace.grad_enabled else 'off'})"
    if treedef != trace.arg_treedef:
        return "the argument structure or a Python (non-tensor) argument changed"
    if signature != trace.arg_signature:
        for i, (a, b) in enumerate(zip(signature, trace.arg_signature)):
            if a != b:
                return f"tensor argument {i} changed from {_sig(b)} to {_sig(a)}"
        return "the number of tensor arguments changed"
    if objs is None:
        return "a .grad the step reads is now None"
    for spec, obj in zip(trace.slots, objs):
        d = obj._data
        if d.shape != spec.shape or d.dtype != spec.dtype.np:
            return (f"{spec.label} changed from {spec.dtype.short}{list(spec.shape)} to "
                    f"{d.dtype}{list(d.shape)}")
        if obj._requires_grad != spec.requires_grad:
            return f"{spec.label}.requires_grad changed to {obj._requires_grad}"
        if spec.grad_is_none is not None and (obj._grad is None) != spec.grad_is_none:
            return f"{spec.label}.grad is {'now None' if obj._grad is None else 'no longer None'}"
    return None


def _sig(s):
    shape, dtype, rg = s
    return f"{dtype}{list(shape)}{' requires_grad' if rg else ''}"
