"""Differential checking of Graph -> Graph passes against the IR interpreter.

A pass is correct when the optimized graph gives the original's outputs and
writes bit for bit (NaN positions equal, every other element the same bits,
so -0.0 and 0.0 differ) on the same random inputs, the verifier accepts its
result, and the original graph and its Nodes are untouched.
"""
import numpy as np

from stepjit.ir.graph import Graph, Node, Value
from stepjit.ir.interpreter import interpret
from stepjit.ir.printer import print_graph
from stepjit.ir.primitives import PRIMITIVES
from stepjit.ir.types import BOOL, FLOAT, float32
from stepjit.ir.verifier import infer_aval, verify

SPECIALS = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0)


class Builder:
    """Hand-built graphs: b = Builder(); x = b.input("x", (2, 3)); y = b("mul", x, 1.0)."""

    def __init__(self):
        self.graph = Graph(name="g")
        self._n = 0

    def input(self, name, shape, dtype=float32):
        v = Value(name, shape, dtype)
        self.graph.inputs.append(v)
        return v

    def lifted(self, name, shape, dtype=float32):
        v = Value(name, shape, dtype)
        self.graph.lifted.append((v, "@" + name))
        return v

    def __call__(self, prim, *inputs, **attrs):
        prim = PRIMITIVES[prim] if isinstance(prim, str) else prim
        aval = infer_aval(prim, inputs, attrs)
        out = Value(str(self._n), tuple(aval.shape), aval.dtype)
        self._n += 1
        self.graph.nodes.append(Node(prim, inputs, attrs, out))
        return out

    def done(self, *outputs, writes=()):
        self.graph.outputs = list(outputs)
        self.graph.writes = list(writes)
        verify(self.graph)
        return self.graph


def random_array(shape, dtype, rng, specials=True):
    if dtype.category == BOOL:
        return rng.random(shape) < 0.5
    if dtype.category != FLOAT:
        return np.zeros(shape, dtype.np)          # 0 is a valid index along any non-empty dim
    a = rng.standard_normal(shape).astype(dtype.np)
    if specials and a.size >= 8:
        flat = a.reshape(-1)
        flat[rng.choice(a.size, len(SPECIALS), replace=False)] = SPECIALS
    return a


def random_inputs(graph, rng, specials=True):
    inputs = [random_array(v.shape, v.dtype, rng, specials) for v in graph.inputs]
    lifted = [random_array(v.shape, v.dtype, rng, specials) for v, _ in graph.lifted]
    return inputs, lifted


def assert_bitwise(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (what, a.dtype, b.dtype, a.shape, b.shape)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        assert np.array_equal(nan, np.isnan(b)), what
        bits = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
        assert np.array_equal(a[~nan].view(bits), b[~nan].view(bits)), what
    else:
        assert np.array_equal(a, b), what


def snapshot(graph):
    """Everything a pass must not change about its input graph."""
    return (print_graph(graph), [(id(n), n.prim, list(n.inputs), dict(n.attrs), n.out, n.loc)
                                 for n in graph.nodes],
            list(graph.inputs), list(graph.lifted), list(graph.outputs), list(graph.writes))


def check(pass_fn, graph, trials=3, seed=0, specials=True, inputs=None):
    """Run pass_fn on graph; check purity, the verifier, and bitwise-equal results."""
    verify(graph)
    before = snapshot(graph)
    out = pass_fn(graph)
    assert out is not graph
    assert snapshot(graph) == before, "the pass changed its input graph"
    assert not {id(n) for n in out.nodes} & {id(n) for n in graph.nodes}, "nodes shared"
    verify(out)
    assert out.inputs == graph.inputs and out.lifted == graph.lifted
    assert [label for label, _ in out.writes] == [label for label, _ in graph.writes]
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        ins, lifted = inputs if inputs is not None else random_inputs(graph, rng, specials)
        with np.errstate(all="ignore"):
            want = interpret(graph, ins, lifted)
            got = interpret(out, ins, lifted)
        for k, (a, b) in enumerate(zip(want[0], got[0])):
            assert_bitwise(a, b, f"output {k}")
        assert want[1].keys() == got[1].keys()
        for label in want[1]:
            assert_bitwise(want[1][label], got[1][label], f"write {label}")
    return out


def prims(graph):
    return [n.prim.name for n in graph.nodes]
