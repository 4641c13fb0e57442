"""Human-readable guards of a trace."""
from __future__ import annotations


def describe_guards(trace) -> str:
    lines = [f"guards of {trace.graph.name}: grad mode {'on' if trace.grad_enabled else 'off'}"]
    for i, (shape, dtype, rg) in enumerate(trace.arg_signature):
        lines.append(f"  arg {i}: {dtype}{list(shape)}{' requires_grad' if rg else ''}")
    for s in trace.slots:
        if s.slot[0] == "arg":
            continue
        g = "" if s.grad_is_none is None else (" .grad is None" if s.grad_is_none else " .grad exists")
        lines.append(f"  @{s.label}: {s.dtype.short}{list(s.shape)}"
                     f"{' requires_grad' if s.requires_grad else ''}{g}")
    for v, arr in trace.decisions:
        lines.append(f"  decision: %{v.name} == {arr.tolist()!r}")
    return "\n".join(lines)
