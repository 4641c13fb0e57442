"""`stepjit dump` and `stepjit explain`: run a user's script and report on its compiled steps.

The script runs as `__main__` with its own arguments; a listener collects every
trace any compiled function makes. Stages that the pipeline does not have yet
say so instead of printing something misleading.
"""
from __future__ import annotations

import json
import runpy
import sys

from . import log

STAGES = ("traced", "autodiff", "optimized", "fused", "kernels")
_LATER = ("optimized", "fused", "kernels")   # stages of the cpu pipeline, shown as text


def _run_script(script, script_args):
    seen = {}

    def listener(compiled, event):
        seen.setdefault(id(compiled), (compiled, []))[1].append(event)

    log.add_listener(listener)
    argv = sys.argv
    sys.argv = [script] + list(script_args or [])
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = argv
        log.remove_listener(listener)
    return list(seen.values())


def _stage_text(graph, stage, fmt):
    from ..ir.printer import graph_to_dot, graph_to_json, print_graph
    if stage in _LATER:
        if fmt == "json" and stage == "optimized":
            from .cpu import optimize
            return json.dumps(graph_to_json(optimize(graph)), indent=1)
        if fmt == "dot" and stage == "optimized":
            from .cpu import optimize
            return graph_to_dot(optimize(graph))
        from .stages import STAGE_TEXT
        return STAGE_TEXT[stage](graph)
    if stage == "autodiff":
        # Trace-time backward() emits the backward nodes into the traced graph itself, so the
        # autodiff stage is the traced graph: forward, backward and update in one listing.
        import copy
        graph = copy.copy(graph)
        graph.stage = "autodiff (backward emitted while tracing)"
    if fmt == "json":
        return json.dumps(graph_to_json(graph), indent=1)
    if fmt == "dot":
        return graph_to_dot(graph)
    return print_graph(graph)


def _own_options(args, names=("--fn", "--stage", "--format")):
    """`stepjit dump SCRIPT [ARGS] [--stage S]`: pull dump's own options out of the script's
    arguments; after a `--`, everything goes to the script."""
    rest, out = list(args.script_args or []), []
    while rest:
        a = rest.pop(0)
        if a == "--":
            out.extend(rest)
            break
        key, eq, val = a.partition("=")
        if key in names:
            val = val if eq else (rest.pop(0) if rest else "")
            setattr(args, key[2:], val)
        else:
            out.append(a)
    args.script_args = out
    if args.stage not in STAGES + ("all",):
        raise SystemExit(f"stepjit dump: unknown stage {args.stage!r}; choose from "
                         + ", ".join(STAGES + ("all",)))
    if args.format not in ("text", "json", "dot"):
        raise SystemExit(f"stepjit dump: unknown format {args.format!r}; choose text, json or dot")


def dump(args) -> int:
    _own_options(args)
    found = _run_script(args.script, args.script_args)
    found = [(c, evs) for c, evs in found if args.fn is None or args.fn in (c.name, c.name.split(".")[-1])]
    if not found:
        print(f"stepjit dump: {args.script} called no compiled function"
              + (f" named {args.fn}" if args.fn else ""), file=sys.stderr)
        return 1
    stages = STAGES if args.stage == "all" else (args.stage,)
    for compiled, events in found:
        traces = [e for e in events if e["kind"] == "trace" and e.get("outcome") != "verified"]
        for k, ev in enumerate(traces):
            print(f"## {compiled.name}: trace {k + 1} ({ev['reason']})")
            backward = ev["trace"].aot
            if backward is not None and backward.error is None:
                print("# forward (its outputs after the results are the residuals the backward "
                      "reads)")
            for stage in stages:
                print(_stage_text(ev["trace"].graph, stage, args.format))
            if backward is not None and backward.error is None:
                print(f"## {compiled.name}: trace {k + 1}: backward (CompiledFunctionBackward: "
                      "saved residuals and the results' gradients in, the inputs' gradients out)")
                for stage in stages:
                    print(_stage_text(backward.graph, stage, args.format))
    return 0


def explain(args) -> int:
    from .explain import describe_function
    found = _run_script(args.script, args.script_args)
    if not found:
        print(f"stepjit explain: {args.script} called no compiled function", file=sys.stderr)
        return 1
    for compiled, events in found:
        print(describe_function(compiled, events))
    return 0
