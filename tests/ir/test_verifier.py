"""IR verifier: a well-formed graph passes; each rule has a graph that breaks it."""
import pytest

from stepjit.ir import primitives as P
from stepjit.ir.graph import Graph, Loc, Node, Value
from stepjit.ir.registry import Primitive
from stepjit.ir.types import bool_, float32, float64, int64
from stepjit.ir.verifier import IRVerifyError, verify


def small():
    """x, w -> h = x @ w; r = clamp(h); s = sum(r); writes @w <- h-derived value."""
    x = Value("x", (4, 3), float32)
    w = Value("w", (3, 2), float32)
    h = Value("h", (4, 2), float32)
    r = Value("r", (4, 2), float32)
    s = Value("s", (), float32)
    u = Value("u", (3, 2), float32)
    nodes = [
        Node(P.matmul, [x, w], {}, h, Loc("/src/model.py", 12, "h = x @ w")),
        Node(P.clamp, [h], {"lo": 0.0, "hi": None}, r, Loc("/src/model.py", 13, "r = h.clamp(min=0)")),
        Node(P.sum, [r], {"axis": None, "keepdims": False}, s),
        Node(P.sub, [w, 0.5], {}, u),
    ]
    return Graph(inputs=[x], lifted=[(w, "@w")], nodes=nodes, outputs=[s], writes=[("@w", u)])


def fails(g, *words):
    with pytest.raises(IRVerifyError) as e:
        verify(g)
    msg = str(e.value)
    for w in words:
        assert w in msg, msg
    return msg


def test_well_formed_graph_passes():
    assert verify(small()) is None


def test_literals_are_weak_scalars():
    # An int tensor plus a Python float is f32 (weak scalar), not f64.
    x = Value("x", (3,), int64)
    o = Value("o", (3,), float32)
    assert verify(Graph(inputs=[x], nodes=[Node(P.add, [x, 2.5], {}, o)], outputs=[o])) is None
    bad = Graph(inputs=[x], nodes=[Node(P.add, [x, 2.5], {}, Value("o", (3,), float64))])
    fails(bad, "declared type f64[3] differs from f32[3]")


def test_data_dependent_shape_checks_dtype_only():
    x = Value("x", (4, 5), float32)
    m = Value("m", (4, 5), bool_)
    ok = Graph(inputs=[x, m], nodes=[Node(P.gather, [x, m], {"key": ("T",)}, Value("g", (11,), float32))])
    assert verify(ok) is None
    bad = Graph(inputs=[x, m], nodes=[Node(P.gather, [x, m], {"key": ("T",)}, Value("g", (11,), int64))])
    fails(bad, "declared type i64[11] differs from f32[?]")


# -- one test per rule ------------------------------------------------------------------
def test_value_defined_twice_by_two_nodes():
    g = small()
    g.nodes[1].out = Value("h", (4, 2), float32)   # %h again
    g.nodes[2].inputs = [g.nodes[1].out]
    fails(g, "node 1:", "%h is defined twice (first by node 0, again by node 1)", "%h = clamp %h")


def test_node_redefines_an_input():
    g = small()
    g.nodes[3].out = Value("x", (3, 2), float32)
    g.writes = [("@w", g.nodes[3].out)]
    fails(g, "node 3:", "%x is defined twice (first as input 0")


def test_input_defined_twice():
    g = small()
    g.inputs.append(g.inputs[0])
    fails(g, "input 1:", "%x is defined twice")


def test_lifted_shadows_input():
    g = small()
    g.lifted.append((Value("x", (1,), float32), "@other"))
    fails(g, "lifted input 1 (@other):", "%x is defined twice")


def test_used_before_definition():
    g = small()
    g.nodes[0], g.nodes[1] = g.nodes[1], g.nodes[0]
    fails(g, "node 0:", "%h is used before its definition (by node 1)",
          "%r = clamp %h {lo=0.0, hi=None} : f32[4,2]  # model.py:13  r = h.clamp(min=0)")


def test_never_defined():
    g = small()
    g.nodes[2].inputs = [Value("ghost", (4, 2), float32)]
    fails(g, "node 2:", "%ghost is never defined", "%s = sum %ghost")


def test_same_name_different_value_object():
    g = small()
    g.nodes[1].inputs = [Value("h", (4, 2), float32)]   # a look-alike, not the node-0 value
    fails(g, "node 1:", "%h refers to a different Value than the one defined by node 0")


def test_declared_shape_differs_from_shape_rule():
    g = small()
    g.nodes[0].out.shape = (4, 3)
    fails(g, "node 0:", "declared type f32[4,3] differs from f32[4,2], computed by the shape rule of matmul",
          "%h = matmul %x, %w : f32[4,3]  # model.py:12  h = x @ w")


def test_declared_dtype_differs_from_shape_rule():
    g = small()
    g.nodes[2].out.dtype = int64
    fails(g, "node 2:", "declared type i64[] differs from f32[]")


def test_shape_rule_rejects_operands():
    g = small()
    g.nodes[0].inputs = [g.inputs[0], g.inputs[0]]   # [4,3] @ [4,3]
    fails(g, "node 0:", "shape rule of matmul rejects this node", "cannot be multiplied")


def test_attr_missing():
    g = small()
    del g.nodes[2].attrs["keepdims"]
    fails(g, "node 2:", "attrs of sum must be {axis, keepdims}; missing ['keepdims']")


def test_attr_unexpected():
    g = small()
    g.nodes[1].attrs["inplace"] = True
    fails(g, "node 1:", "unexpected ['inplace']", "{lo=0.0, hi=None, inplace=True}")


def test_wrong_operand_count():
    g = small()
    g.nodes[3].inputs = [g.lifted[0][0]]
    fails(g, "node 3:", "sub takes 2 operands (x, y), got 1")


def test_variadic_needs_an_operand():
    o = Value("o", (0,), float32)
    fails(Graph(nodes=[Node(P.concat, [], {"axis": 0}, o)]), "concat takes at least one operand")


def test_operand_neither_value_nor_scalar():
    g = small()
    g.nodes[3].inputs = [g.lifted[0][0], "0.5"]
    fails(g, "node 3:", "operand 1 is '0.5', neither a Value nor a bool/int/float literal")


def test_unknown_primitive():
    fake = Primitive("frobnicate", "elementwise", None, None, inputs=("x",))
    g = small()
    g.nodes[3] = Node(fake, [g.lifted[0][0]], {}, g.nodes[3].out)
    fails(g, "node 3:", "unknown primitive 'frobnicate'")


def test_unregistered_primitive_under_a_registered_name():
    impostor = Primitive("sub", "elementwise", None, P.sub.shape_rule, inputs=("x", "y"))
    g = small()
    g.nodes[3].prim = impostor
    fails(g, "'sub' is not the registered primitive of that name")


def test_output_undefined():
    g = small()
    g.outputs = [g.nodes[2].out, Value("nowhere", (), float32)]
    fails(g, "output 1:", "%nowhere is never defined")


def test_write_undefined():
    g = small()
    g.writes.append(("@w.grad", Value("missing", (3, 2), float32)))
    fails(g, "write 1 (@w.grad):", "%missing is never defined")


def test_write_label_duplicated():
    g = small()
    g.writes.append(("@w", g.nodes[0].out))
    fails(g, "write 1:", "label @w is written twice")


def test_lifted_label_duplicated():
    g = small()
    g.lifted.append((Value("w2", (3, 2), float32), "@w"))
    fails(g, "lifted input 1:", "label @w is lifted twice")


def test_malformed_value():
    g = small()
    g.nodes[2].out.shape = (-1,)
    fails(g, "node 2:", "not a tuple of non-negative ints")
    g = small()
    g.inputs[0].dtype = "float32"
    fails(g, "input 0:", "not a stepjit DType")


def test_message_names_the_printed_node_line():
    g = small()
    g.nodes[1].out.dtype = float64
    msg = fails(g)
    assert msg.splitlines()[1].strip() == \
        "%r = clamp %h {lo=0.0, hi=None} : f64[4,2]  # model.py:13  r = h.clamp(min=0)"


def test_attr_value_not_data():
    g = small()
    g.nodes[2].attrs["axis"] = object()
    fails(g, "node 2:", "attr axis=<object object", "is not IR data")
