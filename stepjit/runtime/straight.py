"""A CPU program's steps as one generated Python function: straight-line code, no step objects.

Running a program step by step costs each step a method call, list comprehensions
over its allocators and inputs, env reads and writes and a `*args` call: about
2 us a step, 20 us of the two-layer step's ~400 (B1). The generated function does
the same work with the values in locals: each kernel, matmul and NumPy op called
with its arguments spelled out, the buffers named (a workspace buffer is a global
of the function), every value stored into env once for the caller. The steps stay
the one description of what runs (each writes its own lines, `emit`);
`CpuProgram.run_source` returns the text.
"""
from __future__ import annotations

import re

import numpy as np

from ..ir.graph import Value


class StraightWriter:
    def __init__(self, program):
        self.program = program
        self.lines = []
        self.glob = {"np": np}
        self.local = {}        # Value -> local name holding its array
        self.consts = {}       # id(object) -> global name
        self.used = set(self.glob) | {"env"}

    def _fresh(self, hint):
        base = re.sub(r"\W", "_", hint).strip("_") or "t"
        base = base if not base[0].isdigit() else "v" + base
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def const(self, obj, hint):
        name = self.consts.get(id(obj))
        if name is None:
            name = self.consts[id(obj)] = self._fresh(hint.upper())
            self.glob[name] = obj
        return name

    def emit(self, line):
        self.lines.append("    " + line)

    def value(self, v):
        """The local holding v's array; a program input is read from env at its first use."""
        if not isinstance(v, Value):
            return self.const(v, "literal")
        name = self.local.get(v)
        if name is None:
            name = self.local[v] = self._fresh(f"v{v.name}")
            self.emit(f"{name} = env[{self.const(v, 'V_' + v.name)}]")
        return name

    def produce(self, v, expr):
        """Bind v to expr's result and leave it in env, as the step-by-step run does."""
        name = self.local[v] = self._fresh(f"v{v.name}")
        self.emit(f"{name} = {expr}")
        self.emit(f"env[{self.const(v, 'V_' + v.name)}] = {name}")
        return name

    def alias(self, v, same):
        """v is the array of value `same` (computed into its buffer)."""
        self.local[v] = self.value(same)
        self.emit(f"env[{self.const(v, 'V_' + v.name)}] = {self.local[v]}")

    def buffer(self, v):
        """An expression for the buffer the program gives v (CpuProgram.allocation)."""
        kind, what = self.program.allocation(v)
        if kind == "input":
            return self.value(what)
        if kind == "buffer":
            return self.const(what, f"workspace_{v.name}")
        return f"np.empty({tuple(v.shape)!r}, {self.const(v.dtype.np, v.dtype.np.name)})"

    def build(self, steps, name="program_run"):
        for st in steps:
            st.emit(self)
        src = f"def {name}(env):\n" + "\n".join(self.lines) + "\n    return env\n"
        namespace = dict(self.glob)
        exec(compile(src, f"<stepjit cpu program {name}>", "exec"), namespace)
        return namespace[name], src
