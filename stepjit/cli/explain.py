"""The report `stepjit explain` prints per compiled function."""
from __future__ import annotations

from ..runtime.guards import describe_guards


def describe_function(compiled, events) -> str:
    """Everything `stepjit explain` says about one compiled function."""
    st = compiled.stats()
    lines = [f"{compiled.name}: {st['calls']} calls, {st['traces']} traces "
             f"({st['cached_traces']} cached, {st['retraces']} retraces, {st['verifications']} "
             f"re-verifications), {st['programs_built']} programs built "
             f"({st['programs_reused']} reused by structural hash), {st['fallbacks']} eager calls; "
             f"{st['trace_seconds'] * 1000:.1f} ms tracing, {st['compile_seconds'] * 1000:.1f} ms "
             f"compiling; mode: {st['mode']}"]
    k = 0
    for ev in events:
        if ev["kind"] == "fallback":
            lines.append(f"  recompile limit reached: runs eagerly on a miss (last reason: {ev['reason']})")
            continue
        if ev["kind"] != "trace":
            continue
        tr = ev["trace"]
        outcome = ev.get("outcome", "new")
        if outcome == "verified":
            lines.append(f"  re-verified: {ev['reason']}; the new trace matched")
            continue
        k += 1
        extra = {"one-shot": f"; used once: {tr.why_not_reusable}",
                 "stale": f"; STALE: {ev.get('stale')}",
                 "per-call": "; per-call retrace"}.get(outcome, "")
        lines.append(f"  trace {k}: {ev['reason']}; {len(tr.graph.nodes)} nodes, "
                     f"{ev.get('programs_built', 0)} programs built, {ev['seconds'] * 1000:.1f} ms{extra}")
        if tr.aot is not None:
            lines.append("    " + describe_backward(tr.aot))
        lines.append("    " + describe_guards(tr).replace("\n", "\n    "))
    return "\n".join(lines)


def describe_backward(spec) -> str:
    """What a compiled forward whose results require grad keeps for its backward node."""
    if spec.error is not None:
        return f"its results require grad; their backward raises, as eagerly: {spec.error[1]}"
    kept = ", ".join(f"%{v.name}" for v in spec.residuals)
    return (f"its results require grad: a backward graph of {len(spec.graph.nodes)} nodes "
            f"(CompiledFunctionBackward) gives {len(spec.used)} inputs their gradients from "
            f"{len(spec.out_meta)} result gradients and {len(spec.residuals)} residuals ({kept})")
