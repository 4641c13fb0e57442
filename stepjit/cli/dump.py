"""`stepjit dump` and `stepjit explain`: run a user's script and report on its compiled steps.

The script runs as `__main__` with its own arguments; a listener collects every
trace any compiled function makes. The later stages (optimized, fused, kernels) are
printed from the pipeline's record (stepjit/pipeline.py) of the program each trace
ran, so what is shown is what ran; a trace that ran no pipeline (interpreted, or
one-shot) is shown as the cpu backend would build it.
"""
from __future__ import annotations

import json
import runpy
import sys

from ..ir.printer import print_graph
from ..runtime import log

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


def _programs_of(compiled, trace):
    """The programs the trace's segments ran, in the order of their segments; for a trace
    that built none, the program the cpu backend builds for its graph (nothing compiled)."""
    programs = [p for tr, p in compiled.programs.values() if tr is trace and p.record is not None]
    if not programs:
        from ..programs.cpu import CpuProgram
        programs = [CpuProgram(trace.graph, keep=())]   # keep=(): as the runtime builds a step's
    return programs


def _stage_text(compiled, trace, stage, fmt):
    return _graph_text(trace.graph, lambda: _programs_of(compiled, trace), stage, fmt)


def _backward_text(spec, stage, fmt):
    """A compiled forward's backward graph (tracer/aot.py), from the program its node ran, or
    as the cpu backend would build it when no backward ran yet."""
    def programs():
        program = spec.holder.get("program")
        program = None if program is None else program.unwrapped()
        if program is None or program.record is None:
            from ..programs.cpu import CpuProgram
            program = CpuProgram(spec.graph, keep=())
        return [program]
    return _graph_text(spec.graph, programs, stage, fmt)


def _graph_text(graph, programs, stage, fmt):
    from ..ir.printer import graph_to_dot, graph_to_json, print_graph
    if stage in _LATER:
        out = []
        for program in programs():
            record = program.record
            if fmt == "json" and stage == "optimized":
                out.append(json.dumps(graph_to_json(record.graph), indent=1))
            elif fmt == "dot" and stage == "optimized":
                out.append(graph_to_dot(record.graph))
            else:
                out.append(_LATER_TEXT[stage](program))
        return "\n".join(out)
    if stage == "autodiff" and graph.stage == "traced":
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


def _optimized_text(program):
    return print_graph(program.record.graph)


def _fused_text(program):
    return str(program.record.fused)


def _kernels_text(program):
    """The loop kernels of the record, each as written to the kernel cache (less the imports
    every kernel module shares), and the native program it becomes once hot."""
    record = program.record
    if record.target == "cuda":
        return _cuda_kernels_text(record)
    parts = [f"# stage: kernels ({sum(k is not None for k in record.kernels)} Numba loop kernels; "
             "matmuls run through BLAS, views through NumPy)"]
    for i, k in enumerate(record.kernels):
        if k is None:
            continue
        args = [f"%{v.name}" for v in k.ins] + [f"out %{v.name}" for v in k.outs]
        args += [f"out %{v.name} into %{old.name}" for v, old in k.inplace.items() if v not in k.outs]
        parts.append(f"# group {i}: {k.fname}({', '.join(args)})")
        parts.append(kernel_body(k.text))
    if program.native_ok:
        parts += ["# once hot (its 64th call), the whole program runs as one native function:",
                  kernel_body(program.native_source()[0].source())]
    return "\n".join(parts)


def _cuda_kernels_text(record):
    parts = [f"# stage: kernels ({sum(len(k) for k in record.kernels if k)} CUDA loop kernels; "
             "matmuls run as a tiled kernel, views as device views)"]
    for i, ks in enumerate(record.kernels):
        for k in ks or ():
            args = [f"%{v.name}" for v in k.ins] + [f"out %{v.name}" for v in k.outs]
            parts.append(f"# group {i}: {k.fname}({', '.join(args)})")
            parts.append(kernel_body(k.text))
    return "\n".join(parts)


def kernel_body(text):
    """A kernel module's text after the imports every kernel module shares."""
    return text.split("\n\n", 1)[1]


_LATER_TEXT = {"optimized": _optimized_text, "fused": _fused_text, "kernels": _kernels_text}


def pull_options(args, names):
    """Pull a command's own `--name VALUE` / `--name=VALUE` options out of the script's
    arguments (set on args as `name`); after a `--`, everything goes to the script."""
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


def _own_options(args):
    """`stepjit dump SCRIPT [ARGS] [--fn F] [--stage S] [--format F]`."""
    pull_options(args, ("--fn", "--stage", "--format"))
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
                print(_stage_text(compiled, ev["trace"], stage, args.format))
            if backward is not None and backward.error is None:
                print(f"## {compiled.name}: trace {k + 1}: backward (CompiledFunctionBackward: "
                      "saved residuals and the results' gradients in, the inputs' gradients out)")
                for stage in stages:
                    print(_backward_text(backward, stage, args.format))
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
