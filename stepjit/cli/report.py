"""`stepjit report SCRIPT [--out FILE]`: one self-contained HTML page about a run's compiled steps.

In the spirit of PyTorch's tlparse: the script runs as `__main__` under the profiler while a
listener collects every trace its compiled functions make; the page then shows, per compiled
function, its counters, the timeline of traces, re-verifications and fallbacks with their
reasons, and for each trace its guards, its graph drawn as SVG with the fusion groups coloured,
its IR at each pipeline stage and the generated kernels (the pipeline record of the program
that ran, as `stepjit dump` prints it), then the profile: where compile time and run time went.

`STEPJIT_REPORT=dir python train.py` writes the same page for a whole process when it exits.

The graph is drawn by Graphviz's `dot` when that program is installed (called directly: no
Python package needed), else by a plain layered layout written here. The page has no
JavaScript and loads nothing from elsewhere.
"""
from __future__ import annotations

import html
import shutil
import subprocess
import sys
import time

from .. import profiler
from ..ir.printer import graph_to_dot
from . import dump as _dump
from .explain import describe_function
from ..runtime import log
from ..runtime.guards import describe_guards

PALETTE = ["#cde7f0", "#f9d7c4", "#d8ecc5", "#efd6ef", "#fbefb5", "#d6dcf5", "#f5d0d7",
           "#cfeee4", "#e9e1cf", "#e2e2e2"]


def report(args) -> int:
    _own_options(args)
    start = time.perf_counter()
    with profiler.profile(record_shapes=True, with_stack=True) as prof:
        found = _dump._run_script(args.script, args.script_args)
    page = render(args.script, found, prof, time.perf_counter() - start)
    with open(args.out, "w") as f:
        f.write(page)
    print(f"stepjit report: {len(found)} compiled function(s); wrote {args.out}", file=sys.stderr)
    return 0 if found else 1


def _own_options(args):
    """`stepjit report SCRIPT [ARGS] [--out FILE]`: --out is ours, the rest the script's."""
    args.out = "stepjit_report.html"
    _dump.pull_options(args, ("--out",))


def write_at_exit(directory) -> None:
    """STEPJIT_REPORT=dir: profile the whole process and write dir/stepjit_report_<pid>.html
    when it exits (a script run without the `stepjit report` command)."""
    import atexit
    import os
    seen = {}
    log.add_listener(lambda compiled, event: seen.setdefault(id(compiled), (compiled, []))[1]
                     .append(event))
    prof = profiler.profile(record_shapes=True, with_stack=True).start()
    start = time.perf_counter()

    def write():
        prof.stop()
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"stepjit_report_{os.getpid()}.html")
        with open(path, "w") as f:
            f.write(render(sys.argv[0], list(seen.values()), prof, time.perf_counter() - start))
        print(f"stepjit: report written to {path}", file=sys.stderr)
    atexit.register(write)


# -- the page -------------------------------------------------------------------------------
def render(script, found, prof, seconds) -> str:
    body = [f"<h1>stepjit report: {_e(script)}</h1>",
            f"<p>{len(found)} compiled function(s); the run took {seconds:.2f} s.</p>"]
    if not found:
        body.append("<p>The script called no compiled function.</p>")
    for compiled, events in found:
        body.append(_function_section(compiled, events))
    body.append(_profile_section(prof))
    return _PAGE.format(title=_e(f"stepjit report: {script}"), body="\n".join(body))


def _function_section(compiled, events) -> str:
    parts = [f"<section class='fn'><h2>{_e(compiled.name)}</h2>",
             f"<pre class='summary'>{_e(describe_function(compiled, events))}</pre>",
             "<h3>Timeline</h3>", _timeline(events)]
    traces = [e for e in events if e["kind"] == "trace" and e.get("outcome") != "verified"]
    for k, ev in enumerate(traces, 1):
        parts.append(_trace_section(compiled, ev, k))
    parts.append("</section>")
    return "\n".join(parts)


def _timeline(events) -> str:
    rows = []
    for i, ev in enumerate(events, 1):
        kind = ev["kind"]
        what = ev.get("outcome", "") if kind == "trace" else "fallback to eager"
        retrace = kind == "trace" and i > 1 and ev.get("outcome") != "verified"
        cls = "recompile" if retrace else ("fallback" if kind == "fallback" else "")
        ms = f"{ev.get('seconds', 0) * 1000:.1f}" if kind == "trace" else ""
        built = ev.get("programs_built", "")
        rows.append(f"<tr class='{cls}'><td>{i}</td><td>{_e(kind)}</td><td>{_e(what)}</td>"
                    f"<td>{_e(ev.get('reason', ''))}</td><td>{ms}</td><td>{built}</td></tr>")
    return ("<table class='timeline'><tr><th>#</th><th>event</th><th>outcome</th><th>why</th>"
            "<th>trace ms</th><th>programs built</th></tr>" + "".join(rows) + "</table>")


def _trace_section(compiled, ev, k) -> str:
    trace = ev["trace"]
    parts = [f"<div class='trace'><h3>Trace {k}: {_e(ev['reason'])}</h3>",
             f"<details open><summary>Guards</summary><pre>{_e(describe_guards(trace))}</pre>"
             "</details>"]
    for program in _dump._programs_of(compiled, trace):
        record = program.record
        parts.append(f"<details open><summary>Graph ({len(record.graph.nodes)} nodes after "
                     "optimization; colour = fusion group)</summary>"
                     f"<div class='graph'>{graph_svg(record.graph, record.fused)}</div></details>")
    for stage in ("traced", "optimized", "fused", "kernels"):
        text = _dump._stage_text(compiled, trace, stage, "text")
        parts.append(f"<details><summary>IR: {stage}</summary><pre class='ir {stage}'>{_e(text)}"
                     "</pre></details>")
    parts.append("</div>")
    return "\n".join(parts)


def _profile_section(prof) -> str:
    by_cat = {}
    for e in prof.events:
        by_cat[e.cat] = by_cat.get(e.cat, 0.0) + e.self_time / 1e6
    cats = "".join(f"<tr><td>{_e(c)}</td><td>{ms:.2f}</td></tr>"
                   for c, ms in sorted(by_cat.items(), key=lambda x: -x[1]))
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30)
    return ("<section><h2>Where the time went (profiler)</h2>"
            "<table class='categories'><tr><th>category</th><th>self ms</th></tr>" + cats +
            f"</table><pre>{_e(table)}</pre></section>")


# -- the graph as SVG ---------------------------------------------------------------------
def graph_svg(graph, fused=None) -> str:
    """Graphviz's drawing when `dot` is installed, else the built-in layered one."""
    colour = _group_colours(fused)
    if shutil.which("dot"):
        try:
            svg = subprocess.run(["dot", "-Tsvg"], input=_coloured_dot(graph, colour),
                                 capture_output=True, text=True, timeout=30, check=True).stdout
            return svg[svg.index("<svg"):]
        except (subprocess.SubprocessError, ValueError, OSError):
            pass
    return layered_svg(graph, colour)


def _group_colours(fused) -> dict:
    """Value -> fill colour: one colour per loop group (op groups stay white)."""
    out = {}
    if fused is None:
        return out
    loops = [g for g in fused.groups if g.kind == "loop"]
    for i, g in enumerate(loops):
        for n in g.nodes:
            out[n.out] = PALETTE[i % len(PALETTE)]
    return out


def _coloured_dot(graph, colour) -> str:
    text = graph_to_dot(graph).rstrip()
    if not text.endswith("}"):
        return text
    fills = "".join(f'  "{v.name}" [style=filled, fillcolor="{c}"];\n' for v, c in colour.items())
    return text[:-1] + fills + "}\n"


def layered_svg(graph, colour) -> str:
    """Each value in the column of its longest path from the inputs; edges as lines."""
    layer, label = {}, {}
    for v in list(graph.inputs) + [v for v, _ in graph.lifted]:
        layer[v] = 0
        label[v] = f"%{v.name}"
    for n in graph.nodes:
        layer[n.out] = 1 + max((layer[x] for x in n.inputs if x in layer), default=0)
        label[n.out] = f"%{n.out.name} = {n.prim.name}"
    rows, pos = {}, {}
    for v, col in layer.items():
        row = rows.get(col, 0)
        rows[col] = row + 1
        pos[v] = (20 + col * 170, 20 + row * 34)
    width = 40 + 170 * (max(rows, default=0) + 1)
    height = 40 + 34 * max(rows.values(), default=1)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             "font-family='monospace' font-size='11'>"]
    for n in graph.nodes:
        x2, y2 = pos[n.out]
        for x in n.inputs:
            if x in pos:
                x1, y1 = pos[x]
                parts.append(f"<line x1='{x1 + 140}' y1='{y1 + 11}' x2='{x2}' y2='{y2 + 11}' "
                             "stroke='#888'/>")
    for v, (x, y) in pos.items():
        parts.append(f"<g class='node'><rect x='{x}' y='{y}' width='140' height='22' rx='4' "
                     f"fill='{colour.get(v, '#ffffff')}' stroke='#444'/>"
                     f"<text x='{x + 5}' y='{y + 15}'>{_e(label[v][:22])}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
pre {{ background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: 12px; }}
table {{ border-collapse: collapse; margin: .5em 0; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
tr.recompile td {{ background: #fff3cd; }}
tr.fallback td {{ background: #f8d7da; }}
section.fn {{ border-top: 3px solid #4a7; margin-top: 2em; }}
div.graph {{ overflow-x: auto; }}
summary {{ cursor: pointer; font-weight: 600; margin: .4em 0; }}
</style></head>
<body>
{body}
</body></html>
"""
