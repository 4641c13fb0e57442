"""A loop kernel's lines written into the native program that calls it, in place of the call.

A loop kernel that one group of a native program calls, over few elements, is not worth a
call (codegen/native_program.py: INLINE_MAX_ELEMENTS). Numba's `inline="always"` inlines it at
its IR level, and pays for that per call site: the kernel's bytecode is translated and run
through Numba's untyped passes on its own, then its IR copied into the caller's (W6's 13
such loops: ~0.6-1.0 s of its program's ~5 s compile). The kernel's text is ours, so the
program's text holds its lines instead: its parameters replaced by the call's arguments (names
and `dims[k]`), its own names given a prefix of the call's (`_3t0`), so that they meet none of
the program's. Numba then reads one function, as it would after inlining.

A kernel whose body returns (the flat loop of codegen/loops.py, which returns after it) or
binds a name its parameters have, or whose call passes an argument that is not a plain name
or `dims[k]`, is left to Numba's inlining.
"""
from __future__ import annotations

import ast
import re

_SIMPLE_ARG = re.compile(r"^(?:[A-Za-z_]\w*|dims\[\d+\])$")
_CALL = re.compile(r"^(\s*)(loop\d+)\((.*)\)$")


def kernel_lines(src):
    """(parameters, body lines, local names) of a loop kernel's text (`def loopK(...):` and its
    body), or None where its lines cannot stand in for a call (it returns, or rebinds a
    parameter)."""
    tree = ast.parse(src)
    fn = tree.body[0]
    params = [a.arg for a in fn.args.args]
    stored = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Return):
            return None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stored.add(node.id)
    if stored & set(params):
        return None
    lines = src.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("def "))
    body = [line for line in lines[start + 1:] if line.strip()]
    return params, body, stored


def inline_call(line, kernel, tag):
    """The lines standing for `line`, a call `loopK(args)` of the kernel (kernel_lines), its
    locals prefixed by `tag`; None where an argument is not a plain name or `dims[k]`."""
    m = _CALL.match(line)
    params, body, local = kernel
    args = [a.strip() for a in m[3].split(",")]
    if len(args) != len(params) or not all(_SIMPLE_ARG.match(a) for a in args):
        return None
    names = dict(zip(params, args))
    names.update((n, f"_{tag}{n}") for n in local)
    word = re.compile(r"(?<![\w.])(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
    indent = m[1]
    out = []
    for text in body:
        code, hash_, comment = text.partition("#")
        code = word.sub(lambda w: names[w[1]], code)
        out.append((indent + code[4:] + hash_ + comment).rstrip())
    return out


def inline_kernels(lines, kernels):
    """`lines` with each call of a kernel in `kernels` ({name: its text}) replaced by the
    kernel's lines where it can be; and the names of the kernels all of whose calls were."""
    parsed = {name: kernel_lines(src) for name, src in kernels.items()}
    out, kept = [], set()
    for k, line in enumerate(lines):
        m = _CALL.match(line)
        kernel = parsed.get(m[2]) if m else None
        lines_in = inline_call(line, kernel, f"{m[2][4:]}_") if kernel else None
        if lines_in is None:
            if m and m[2] in kernels:
                kept.add(m[2])
            out.append(line)
        else:
            out += lines_in
    return out, set(kernels) - kept
