"""Dead-code elimination keeps exactly what outputs and writes need."""
import numpy as np

from stepjit.ir import primitives as P
from stepjit.ir.graph import Node, Value
from stepjit.ir.registry import Primitive
from stepjit.ir.types import int64
from stepjit.passes.dce import dce
from stepjit.passes.rewrite import is_pure

from .helpers import Builder, check, prims


def test_drops_unused_nodes_keeps_outputs_and_writes():
    b = Builder()
    x, w = b.input("x", (3, 4)), b.lifted("w", (4,))
    used = b("exp", x)
    b("log", x)                                   # unused
    b("mul", b("neg", x), 2.0)                    # unused chain
    new_w = b("sub", w, b("sum", used, axis=(0,), keepdims=False))
    g = check(dce, b.done(used, writes=[("@w", new_w)]))
    assert prims(g) == ["exp", "sum", "sub"]
    assert g.stage == "dce"


def test_keeps_inputs_even_when_unused():
    b = Builder()
    x, unused = b.input("x", (2,)), b.input("unused", (5,), int64)
    g = check(dce, b.done(b("neg", x)))
    assert g.inputs == [x, unused]


def test_empty_and_passthrough_graphs():
    b = Builder()
    x = b.input("x", (2,))
    b("exp", x)
    g = check(dce, b.done(x))
    assert g.nodes == [] and g.outputs == [x]


def test_a_write_alone_keeps_its_producers():
    b = Builder()
    w = b.lifted("w", (3,))
    z = b("full", shape=(3,), value=0.0, dtype=w.dtype)
    g = check(dce, b.done(writes=[("@w.grad", z), ("@w", b("add", w, 1.0))]))
    assert prims(g) == ["full", "add"]


def test_impure_nodes_are_kept():
    draw = Primitive("draw", "random", lambda x: np.asarray(x) * 0 + 4.0,
                     P.neg.shape_rule, inputs=("x",))      # random: not pure by default
    assert not is_pure(draw) and is_pure(P.add) and is_pure(P.full)
    b = Builder()
    x = b.input("x", (2,))
    b.graph.nodes.append(Node(draw, [x], {}, Value("r", (2,), x.dtype)))
    b.graph.outputs = [x]
    g = dce(b.graph)
    assert prims(g) == ["draw"]
