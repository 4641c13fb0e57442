"""The IR: a flat, typed SSA graph of primitive applications. Plain data, no closures.

A Graph has
  inputs   Values bound to the function's tensor arguments, in flattened order
  lifted   Values bound to tensors met during the trace that were not arguments
           (weights, optimizer state, .grad buffers); each has a label like "@w1"
  nodes    Node(prim, inputs, attrs, out, loc), in a valid evaluation order;
           a node input is a Value or a Python scalar literal
  outputs  Values returned to the caller, in flattened order
  writes   (label, Value): state the step mutated, written back after the call,
           labels like "@w1" (data) and "@w1.grad" (its gradient)
  stage    the name of the stage or pass that produced this graph (printed in the header)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .registry import Primitive
from .types import DType, type_str


class Value:
    __slots__ = ("name", "shape", "dtype", "__weakref__")

    def __init__(self, name: str, shape: tuple, dtype: DType):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def type(self) -> str:
        return type_str(self.shape, self.dtype)

    def __repr__(self) -> str:
        return f"%{self.name}: {self.type}"


@dataclass
class Loc:
    """Where the user's program asked for a node: file, line and the line's text."""
    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        import os
        return f"{os.path.basename(self.file)}:{self.line}"


class Node:
    __slots__ = ("prim", "inputs", "attrs", "out", "loc")

    def __init__(self, prim: Primitive, inputs, attrs: dict, out: Value, loc: Loc | None = None):
        self.prim = prim
        self.inputs = list(inputs)
        self.attrs = dict(attrs)
        self.out = out
        self.loc = loc

    def value_inputs(self):
        return [v for v in self.inputs if isinstance(v, Value)]

    def __repr__(self) -> str:
        return f"<Node %{self.out.name} = {self.prim.name}>"


@dataclass
class Graph:
    name: str = "step"
    inputs: list = field(default_factory=list)
    lifted: list = field(default_factory=list)      # [(Value, label)]
    nodes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    writes: list = field(default_factory=list)      # [(label, Value)]
    stage: str = "traced"

    def all_inputs(self) -> list:
        return list(self.inputs) + [v for v, _ in self.lifted]

    def producers(self) -> dict:
        return {n.out: n for n in self.nodes}

    def __str__(self) -> str:
        from .printer import print_graph
        return print_graph(self)
