"""What stepjit's generated Python functions share: unique local names, objects bound as
globals of the function, indented lines, and compiling the text (codegen/straight_line.py,
eager_vjp.py and tape_function.py; runtime/fastcall.py)."""
from __future__ import annotations

import re


def ident(text):
    """text as a Python identifier."""
    s = re.sub(r"\W", "_", text).strip("_") or "t"
    return s if not s[0].isdigit() else "v" + s


class CodeWriter:
    def __init__(self, glob, reserved=()):
        self.glob = dict(glob)     # the function's globals: name -> object
        self.lines = []
        self.indent = ""
        self.used = set(self.glob) | set(reserved)
        self.consts = {}           # id(object) -> global name (the objects live in self.glob)
        self._tried = {}           # hint -> the last suffix tried for it (a long function's
                                   # thousands of `v` names cost one probe each, not k)

    def local(self, hint):
        """A new name, unused so far, that reads like hint."""
        base = ident(hint)
        name, k = base, self._tried.get(base, 1)   # names tried before stay used: start after them
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self._tried[base] = k
        self.used.add(name)
        return name

    def const(self, obj, hint):
        """The global name bound to obj (one per object)."""
        name = self.consts.get(id(obj))
        if name is None:
            name = self.consts[id(obj)] = self.local(hint.upper())
            self.glob[name] = obj
        return name

    def emit(self, line):
        self.lines.append(self.indent + line)

    def function(self, header, footer, what, lines=None):
        """Compile `header`, the lines (indented one level; `lines` instead of the writer's when
        given) and `footer`; the function named in the header, and its text. `what` names it in
        tracebacks."""
        name = header.split("(")[0].split()[-1]
        body = self.lines if lines is None else lines
        src = header + "\n" + "\n".join("    " + line for line in body) + "\n" + footer
        namespace = dict(self.glob)
        exec(compile(src, f"<stepjit {what} {name}>", "exec"), namespace)
        return namespace[name], src
