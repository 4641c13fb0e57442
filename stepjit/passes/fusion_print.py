"""`stepjit dump --stage fused`: the graph's nodes listed under the group (kernel) that runs them."""
from __future__ import annotations

from ..ir.printer import format_node
from ..ir.types import type_str


def print_fused(fg) -> str:
    loops = sum(1 for g in fg.groups if g.kind == "loop")
    lines = [f"# stage: fused ({loops} loop kernels, {len(fg.groups) - loops} other ops)"]
    for i, g in enumerate(fg.groups):
        if g.kind == "loop":
            outs = ", ".join(f"%{v.name}" for v in g.outputs)
            lines.append(f"group {i}: loop over {type_str(g.shape, g.nodes[-1].out.dtype)[g.nodes[-1].out.dtype.short.__len__():]}"
                         f" writes ({outs})" + (" with reduction" if g.has_reduction else ""))
        else:
            lines.append(f"group {i}: {g.nodes[0].prim.name}")
        for n in g.nodes:
            lines.append("    " + format_node(n))
    return "\n".join(lines)
