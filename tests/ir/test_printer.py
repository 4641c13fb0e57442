"""IR printer: the exact text of a small graph, how literals and attrs print, JSON and dot."""
import json

import numpy as np

from stepjit.ir import primitives as P
from stepjit.ir.graph import Graph, Loc, Node, Value
from stepjit.ir.printer import (fmt_attr, fmt_scalar, format_node, graph_to_dot, graph_to_json,
                                print_graph)
from stepjit.ir.types import bool_, float32, float64, int32, int64


def two_layer():
    x = Value("x", (64, 1000), float32)
    y = Value("y", (64, 10), float32)
    w1 = Value("w1", (1000, 100), float32)
    w2 = Value("w2", (100, 10), float32)
    h = Value("0", (64, 100), float32)
    r = Value("1", (64, 100), float32)
    p = Value("2", (64, 10), float32)
    d = Value("3", (64, 10), float32)
    s = Value("4", (), float32)
    f = "/home/me/examples/two_layer.py"
    nodes = [
        Node(P.matmul, [x, w1], {}, h, Loc(f, 41, "h = x.mm(w1)")),
        Node(P.clamp, [h], {"hi": None, "lo": 0.0}, r, Loc(f, 42, "h_relu = h.clamp(min=0)")),
        Node(P.matmul, [r, w2], {}, p, Loc(f, 43, "y_pred = h_relu.mm(w2)")),
        Node(P.sub, [p, y], {}, d, Loc(f, 44, "loss = (y_pred - y).pow(2).sum()")),
        Node(P.sum, [d], {"axis": None, "keepdims": False}, s, None),
    ]
    return Graph(name="step", inputs=[x, y], lifted=[(w1, "@w1"), (w2, "@w2")], nodes=nodes,
                 outputs=[s], writes=[("@w1", h), ("@w1.grad", r)], stage="traced")


EXPECTED = """\
# stage: traced
def step(%x: f32[64,1000], %y: f32[64,10]) lifted(%w1: f32[1000,100] @w1, %w2: f32[100,10] @w2):
  %0 = matmul %x, %w1                     : f32[64,100]  # two_layer.py:41  h = x.mm(w1)
  %1 = clamp %0 {lo=0.0, hi=None}         : f32[64,100]  # two_layer.py:42  h_relu = h.clamp(min=0)
  %2 = matmul %1, %w2                     : f32[64,10]   # two_layer.py:43  y_pred = h_relu.mm(w2)
  %3 = sub %2, %y                         : f32[64,10]   # two_layer.py:44  loss = (y_pred - y).pow(2).sum()
  %4 = sum %3 {axis=None, keepdims=False} : f32[]
  return (%4,) writes(@w1 <- %0, @w1.grad <- %1)
"""


def test_exact_text():
    assert print_graph(two_layer()) == EXPECTED


def test_str_of_graph_is_the_printer():
    assert str(two_layer()) == EXPECTED


def test_without_locs():
    text = print_graph(two_layer(), show_locs=False)
    body = text.splitlines()[2:-1]
    assert all("#" not in line for line in body)
    assert body[0] == "  %0 = matmul %x, %w1                     : f32[64,100]"
    assert all(not line.endswith(" ") for line in text.splitlines())


def test_columns_line_up():
    lines = print_graph(two_layer()).splitlines()[2:-1]
    assert len({line.index(" : ") for line in lines}) == 1
    assert len({line.index("  # ") for line in lines if "#" in line}) == 1


def test_attrs_in_declared_order():
    # clamp's attrs were given as {hi, lo}; they print as the primitive declares them.
    assert "{lo=0.0, hi=None}" in EXPECTED
    x = Value("x", (2, 3), float32)
    n = Node(P.sum, [x], {"keepdims": True, "axis": (0, 1)}, Value("s", (1, 1), float32))
    assert format_node(n) == "%s = sum %x {axis=(0, 1), keepdims=True} : f32[1,1]"


def test_scalar_literals():
    assert fmt_scalar(1) == "1"
    assert fmt_scalar(-3) == "-3"
    assert fmt_scalar(1.0) == "1.0"
    assert fmt_scalar(-0.5) == "-0.5"
    assert fmt_scalar(1e-05) == "1e-05"
    assert fmt_scalar(1e20) == "1e+20"
    assert fmt_scalar(float("inf")) == "inf"
    assert fmt_scalar(float("-inf")) == "-inf"
    assert fmt_scalar(True) == "True"
    assert fmt_scalar(False) == "False"
    # NumPy scalars print as the Python scalar of the same kind.
    assert fmt_scalar(np.float32(0.5)) == "0.5"
    assert fmt_scalar(np.int64(7)) == "7"
    assert fmt_scalar(np.bool_(True)) == "True"


def test_literal_operands():
    x = Value("x", (3,), float32)
    cases = [(P.add, [x, 1], "%o = add %x, 1 : f32[3]"),
             (P.add, [x, 2.0], "%o = add %x, 2.0 : f32[3]"),
             (P.mul, [x, True], "%o = mul %x, True : f32[3]"),
             (P.sub, [-1.5, x], "%o = sub -1.5, %x : f32[3]"),
             (P.where, [Value("m", (3,), bool_), float("-inf"), x], "%o = where %m, -inf, %x : f32[3]")]
    for prim, inputs, text in cases:
        assert format_node(Node(prim, inputs, {}, Value("o", (3,), float32))) == text


def test_attr_values():
    assert fmt_attr(float32) == "f32"
    assert fmt_attr(float64) == "f64"
    assert fmt_attr(int32) == "i32"
    assert fmt_attr(int64) == "i64"
    assert fmt_attr(bool_) == "bool"
    assert fmt_attr(None) == "None"
    assert fmt_attr(()) == "()"
    assert fmt_attr((1,)) == "(1,)"
    assert fmt_attr((0, -2)) == "(0, -2)"
    assert fmt_attr(("T", (1, None, -1), None, 3)) == "('T', (1, None, -1), None, 3)"
    assert fmt_attr([1, 2]) == "[1, 2]"
    assert fmt_attr((np.int64(2), np.int32(3))) == "(2, 3)"
    assert fmt_attr(0.0) == "0.0" and fmt_attr(0) == "0" and fmt_attr(False) == "False"


def test_creation_ops_have_no_operands():
    n = Node(P.full, [], {"shape": (2, 3), "value": 0.0, "dtype": float32}, Value("z", (2, 3), float32))
    assert format_node(n) == "%z = full {shape=(2, 3), value=0.0, dtype=f32} : f32[2,3]"


def test_variadic_ops():
    x = Value("x", (4, 5), float32)
    i = Value("i", (3,), int64)
    n = Node(P.index_put, [x, 0.0, i], {"key": ("T", (None, None, 2)), "accumulate": False},
             Value("o", (4, 5), float32), Loc("a/b.py", 7, "x[i, ::2] = 0"))
    assert format_node(n) == ("%o = index_put %x, 0.0, %i {key=('T', (None, None, 2)), accumulate=False}"
                              " : f32[4,5]  # b.py:7  x[i, ::2] = 0")


def test_odd_names_are_quoted():
    x = Value("a b", (), float32)
    g = Graph(name="<lambda>", inputs=[x], lifted=[(Value("w", (), float32), "w")],
              outputs=[x], writes=[("@x y", x)])
    text = print_graph(g)
    assert "def '<lambda>'(%'a b': f32[]) lifted(%w: f32[] 'w'):" in text
    assert "return (%'a b',) writes('@x y' <- %'a b')" in text


def test_long_header_wraps_one_item_per_line():
    xs = [Value(f"x{i}", (1000, 1000), float32) for i in range(10)]
    g = Graph(inputs=xs, lifted=[(Value("w", (3,), float32), "@w")], outputs=xs[:2],
              writes=[("@w", xs[0])])
    lines = print_graph(g).splitlines()
    assert lines[1] == "def step("
    assert lines[2] == "    %x0: f32[1000,1000],"
    assert lines[12] == ") lifted(%w: f32[3] @w):"
    assert lines[-1] == "  return (%x0, %x1) writes(@w <- %x0)"


def test_multiple_and_no_outputs():
    x = Value("x", (), float32)
    assert print_graph(Graph(inputs=[x], outputs=[x, x])).endswith("  return (%x, %x)\n")
    assert print_graph(Graph(inputs=[x])).endswith("  return ()\n")


def test_json():
    data = graph_to_json(two_layer())
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["inputs"][0] == {"name": "x", "dtype": "f32", "shape": [64, 1000]}
    assert data["lifted"][0]["label"] == "@w1"
    n1 = data["nodes"][1]
    assert n1["op"] == "clamp" and n1["attrs"] == {"hi": None, "lo": 0.0}
    assert n1["inputs"] == [{"value": "0"}]
    assert n1["loc"] == {"file": "two_layer.py", "line": 42, "text": "h_relu = h.clamp(min=0)"}
    assert "loc" not in data["nodes"][4]
    assert data["outputs"] == ["4"]
    assert data["writes"] == [{"label": "@w1", "value": "0"}, {"label": "@w1.grad", "value": "1"}]


def test_json_attr_kinds():
    x = Value("x", (3,), float32)
    g = Graph(inputs=[x], nodes=[
        Node(P.full, [], {"shape": (3,), "value": float("-inf"), "dtype": float64}, Value("f", (3,), float64)),
        Node(P.add, [x, 2], {}, Value("a", (3,), float32)),
        Node(P.slice, [x], {"key": ((None, None, -1),)}, Value("s", (3,), float32))])
    data = graph_to_json(g)
    json.dumps(data, allow_nan=False)
    assert data["nodes"][0]["attrs"] == {"shape": [3], "value": "-inf", "dtype": "f64"}
    assert data["nodes"][1]["inputs"][1] == {"literal": 2}
    assert data["nodes"][2]["attrs"]["key"] == [[None, None, -1]]


def test_dot():
    dot = graph_to_dot(two_layer())
    assert dot.startswith('digraph "step" {') and dot.rstrip().endswith("}")
    assert dot.count("shape=box") == 5
    assert dot.count(" -> ") == 2 + 1 + 2 + 2 + 1 + 1 + 2   # operand edges, output, writes
    assert '{lo=0.0, hi=None}' in dot
    assert "@w1.grad" in dot


def test_dot_escapes_quotes():
    x = Value('q"uote', (), float32)
    dot = graph_to_dot(Graph(name='a"b', inputs=[x], outputs=[x]))
    assert 'digraph "a\\"b"' in dot
