"""What a call is checked against before a cached trace runs, and how a failure is told.

The check is split along the trace tree (tree.py): a root checks grad mode, the
argument structure with its Python values, each tensor argument's
(shape, dtype, requires_grad) and which arguments are the same tensor in one
tuple comparison; each segment then checks, by its generated check function
(guardcode.py), the real tensors it first touches (a few attribute reads each),
the Python values it baked in and the type of the hyperparameters it reads per call.
This module turns a failed guard into a sentence naming old and new.
"""
from __future__ import annotations

from ..tracer.pytree import leaf_constants


def arg_guard_failure(traced, now) -> str:
    """traced and now are (grad mode, treedef, signature, aliases) tuples that differ."""
    g0, tree0, sig0, alias0 = traced
    g1, tree1, sig1, alias1 = now
    if g0 != g1:
        return f"grad mode changed (traced with grad {'on' if g0 else 'off'})"
    if tree0 != tree1:
        old, new = leaf_constants(tree0), leaf_constants(tree1)
        if len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new)):
                if type(a) is not type(b) or a != b:
                    return f"a Python (non-tensor) argument changed from {a!r} to {b!r}"
        return "the argument structure or a Python (non-tensor) argument changed"
    for i, (a, b) in enumerate(zip(sig1, sig0)):
        if a != b:
            return f"tensor argument {i} changed from {_sig(b)} to {_sig(a)}"
    if len(sig0) != len(sig1):
        return "the number of tensor arguments changed"
    return (f"which tensor arguments are the same tensor changed (traced: "
            f"{_aliases(alias0)}, now: {_aliases(alias1)})")


def shapes_only(traced, now) -> bool:
    """Whether two argument keys differ only in the sizes of tensor arguments (same grad mode,
    structure, aliasing, and for every tensor the same rank, dtype and requires_grad): a new
    sequence length or batch size, which automatic dynamic shapes traces without counting it
    against the recompile limit."""
    g0, tree0, sig0, alias0 = traced
    g1, tree1, sig1, alias1 = now
    if g0 != g1 or tree0 != tree1 or alias0 != alias1 or len(sig0) != len(sig1):
        return False
    return all(len(a[0]) == len(b[0]) and a[1:] == b[1:] for a, b in zip(sig0, sig1))


def slot_failure(spec, obj):
    """Why the tensor obj does not pass the slot spec's guards (None when it does)."""
    if obj is None:
        return f"{spec.label} is now None"
    d = obj._data
    if d.shape != spec.shape or d.dtype != spec.dtype.np:
        return (f"{spec.label} changed from {spec.dtype.short}{list(spec.shape)} to "
                f"{d.dtype}{list(d.shape)}")
    if obj._requires_grad != spec.requires_grad:
        return f"{spec.label}.requires_grad changed to {obj._requires_grad}"
    if spec.grad_is_none is not None and (obj._grad is None) != spec.grad_is_none:
        return f"{spec.label}.grad is {'now None' if obj._grad is None else 'no longer None'}"
    return None


def _aliases(aliases):
    if aliases is None:
        return "all different"
    return ", ".join(f"{j} is {i}" for j, i in enumerate(aliases) if i != j)


def _sig(s):
    shape, dtype, rg = s
    return f"{dtype}{list(shape)}{' requires_grad' if rg else ''}"


def describe_guards(trace) -> str:
    """A trace's guards, one per line (`stepjit explain`, STEPJIT_LOGS=guards)."""
    lines = [f"guards of {trace.graph.name}: grad mode {'on' if trace.grad_enabled else 'off'}"]
    for i, (shape, dtype, rg) in enumerate(trace.arg_signature):
        lines.append(f"  arg {i}: {dtype}{list(shape)}{' requires_grad' if rg else ''}")
    for s in trace.slots:
        if s.slot[0] == "arg":
            continue
        g = "" if s.grad_is_none is None else (" .grad is None" if s.grad_is_none else " .grad exists")
        lines.append(f"  @{s.label}: {s.dtype.short}{list(s.shape)}"
                     f"{' requires_grad' if s.requires_grad else ''}{g}")
    for p in trace.py_inputs:
        lines.append(f"  {p.label}: read every call (a {p.type.__name__}, not baked in)")
    for g in trace.py_guards:
        describe = getattr(g, "describe", None)
        lines.append(f"  {describe()}" if describe else f"  {g.label} == {g.value!r}  (read at {g.loc})")
    for d in trace.decisions:
        lines.append(f"  decision: {d.describe()}  at {d.where()}")
    for w in trace.py_writes:
        describe = getattr(w, "describe", None)
        lines.append(f"  {describe()}" if describe else
                     f"  after each call: {w.label} = {w.value!r}  (the step sets it)")
    return "\n".join(lines)
