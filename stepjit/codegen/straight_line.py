"""A CPU program's steps as one generated Python function: straight-line code, no step objects.

This is how a CPU program runs (CpuProgram.run), from its first call on. Run step by step,
each step cost a method call, list comprehensions over its allocators and inputs, env reads
and writes and a `*args` call: about 2 us a step, 20 us of the two-layer step's ~400 (B1).
The generated function does the same work with the values in locals: each kernel, matmul
and NumPy op called with its arguments spelled out, the buffers named (a workspace buffer is
a global of the function), every value the caller reads (CpuProgram.exported) stored into
env once. Each step writes
its own lines (`emit`): the one description of what it runs. The first run's function calls
each kernel through its first-call wrapper (which loads or compiles it); it is then written
again over what runs the kernel. `CpuProgram.straight_text` is the text.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Value
from ..ir.impl import raise_check
from .codewriter import CodeWriter


class StraightWriter(CodeWriter):
    def __init__(self, program):
        super().__init__({"np": np}, reserved=("env",))
        self.program = program
        self.names = {}        # Value -> local name holding its array
        # Value -> its array where that is the same object on every run: a workspace buffer
        # (CpuProgram.allocation), a view of one (OpStep._view binds it as a constant)
        self.fixed = {}

    def value(self, v):
        """The local holding v's array; a program input is read from env at its first use."""
        if not isinstance(v, Value):
            return self.const(v, "literal")
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = self.local(f"v{v.name}")
            self.emit(f"{name} = env[{self.const(v, 'V_' + v.name)}]")
        return name

    def produce(self, v, expr):
        """Bind v to expr's result, left in env if the program's caller reads it."""
        name = self.names[v] = self.local(f"v{v.name}")
        self.emit(f"{name} = {expr}")
        self._export(v, name)
        return name

    def alias(self, v, same):
        """v is the array of value `same` (computed into its buffer)."""
        self.names[v] = self.value(same)
        if same in self.fixed:
            self.fixed[v] = self.fixed[same]
        self._export(v, self.names[v])

    def exported(self, v) -> bool:
        """Does the program's caller read v from env?"""
        exported = self.program.exported
        return exported is None or v in exported

    def _export(self, v, name):
        # (W8's step stored ~480 values in env, ~20 it reads: ~25 us a call)
        exported = self.program.exported
        if exported is None or v in exported:
            self.emit(f"env[{self.const(v, 'V_' + v.name)}] = {name}")

    def buffer(self, v):
        """An expression for the buffer the program gives v (CpuProgram.allocation)."""
        kind, what = self.program.allocation(v)
        if kind == "input":
            return self.value(what)
        if kind == "buffer":
            self.fixed[v] = what
            return self.const(what, f"workspace_{v.name}")
        return f"np.empty({tuple(v.shape)!r}, {self.const(v.dtype.np, v.dtype.np.name)})"

    def build(self, steps):
        for st in steps:
            st.emit(self)
            for node in st.checks:     # raised here: before any later step writes a tensor
                self.emit(f"if {self.names[node.out]}[()] > 0:")
                self.emit(f"    {self.const(raise_check, 'raise_check')}({self.const(node, 'check')})")
        self.emit("return env")
        return self.function("def program_run(env):", "", "cpu program")
