"""IR parser: print -> parse -> print is the identity over every primitive, and bad text
fails with IRParseError naming the line.

SAMPLES holds, for every registered primitive, one or more applications covering
its attr kinds; a primitive added to the registry without a sample here fails
`test_every_primitive_has_a_sample`.
"""
import math

import pytest

from stepjit.ir.graph import Graph, Loc, Node, Value
from stepjit.ir.parser import IRParseError, parse_graph
from stepjit.ir.primitives import PRIMITIVES
from stepjit.ir.printer import print_graph
from stepjit.ir.types import DType, bool_, float32, float64, int32, int64
from stepjit.ir.verifier import infer_aval, verify

F = float32


def T(dtype, *shape):
    """An operand spec: a fresh graph input of this type."""
    return (dtype, shape)


INF = float("inf")

# name -> [(operands, attrs) or (operands, attrs, declared_shape)]; an operand is
# T(dtype, *shape) (a graph input) or a Python scalar literal.
SAMPLES = {
    "add": [([T(F, 2, 3), T(F, 3)], {}), ([T(int64, 4), 1], {}), ([T(F, 4), True], {})],
    "sub": [([T(F, 2, 3), T(F, 2, 3)], {}), ([1.5, T(int32, 3)], {})],
    "mul": [([T(F, 2, 1), T(F, 1, 3)], {}), ([T(F, 3), -2.5], {})],
    "div": [([T(int64, 3), 2], {}), ([T(F, 3), 1e-05], {})],
    "floor_divide": [([T(int64, 3), 2], {}), ([T(F, 3), T(F, 3)], {})],
    "pow": [([T(F, 3), 2], {}), ([T(F, 3), T(F, 3)], {}), ([-0.5, T(F, 2)], {})],
    "maximum": [([T(F, 3), 0.0], {})],
    "minimum": [([T(F, 3), T(float64, 3)], {})],
    "neg": [([T(F, 2, 2)], {}), ([T(int64, 2)], {})],
    "exp": [([T(F, 3)], {})],
    "log": [([T(float64, 3)], {})],
    "log1p": [([T(F, 3)], {})],
    "log2": [([T(F, 3)], {})],
    "log10": [([T(float64, 3)], {})],
    "expm1": [([T(F, 3)], {})],
    "erf": [([T(F, 2, 3)], {})],
    "lgamma": [([T(F, 2, 3)], {})],
    "digamma": [([T(float64, 4)], {})],
    "erfinv": [([T(F, 2, 3)], {})],
    "i0": [([T(F, 2, 3)], {})], "i0e": [([T(F, 3)], {})], "i1": [([T(float64, 3)], {})],
    "i1e": [([T(F, 3)], {})], "ndtri": [([T(F, 2)], {})], "erfcx": [([T(float64, 2)], {})],
    "polygamma": [([T(F, 2, 3)], {"n": 2})],
    "sqrt": [([T(int64, 3)], {})],
    "sin": [([T(F, 3)], {})],
    "cos": [([T(F, 3)], {})],
    "tanh": [([T(F, 3)], {})],
    "sinh": [([T(F, 3)], {})],
    "atan2": [([T(F, 2, 3), T(F, 3)], {})],
    "sigmoid": [([T(F, 3)], {})],
    "relu": [([T(F, 3)], {})],
    "abs": [([T(int32, 3)], {})],
    "sign": [([T(F, 3)], {})],
    "floor": [([T(F, 3)], {})],
    "ceil": [([T(F, 3)], {})],
    "round": [([T(F, 3)], {})],
    "clamp": [([T(F, 2, 3)], {"lo": 0.0, "hi": None}),
              ([T(F, 2, 3)], {"lo": None, "hi": 6}),
              ([T(F, 2, 3)], {"lo": -1.5, "hi": 1e20}),
              ([T(F, 2, 3)], {"lo": -INF, "hi": INF})],
    "eq": [([T(F, 3), 0.0], {})],
    "ne": [([T(int64, 3), T(int64, 3)], {})],
    "lt": [([T(F, 3), -1], {})],
    "le": [([T(F, 3), T(F, 1)], {})],
    "gt": [([T(F, 3), 0.5], {})],
    "ge": [([T(bool_, 3), False], {})],
    "logical_not": [([T(bool_, 3)], {})],
    "index_reduce": [([T(F, 4, 2), T(F, 3, 2), T(int64, 3)], {"key": ("T",), "reduce": "amax"})],
    "bitwise_and": [([T(int64, 3), 6], {})],
    "bitwise_or": [([T(int64, 2, 3), T(int64, 3)], {})],
    "bitwise_xor": [([T(bool_, 3), T(bool_, 3)], {})],
    "bitwise_not": [([T(int64, 3)], {})],
    "left_shift": [([T(int64, 3), T(int64, 3)], {})],
    "right_shift": [([T(int64, 3), 2], {})],
    "gcd": [([T(int64, 3), T(int64, 3)], {})],
    "logical_and": [([T(bool_, 3), True], {})],
    "logical_or": [([T(bool_, 2, 3), T(bool_, 3)], {})],
    "where": [([T(bool_, 2, 3), T(F, 2, 3), 0.0], {}), ([T(bool_, 3), -INF, T(float64, 3)], {})],
    "cast": [([T(F, 3)], {"dtype": float64}), ([T(F, 3)], {"dtype": int64}),
             ([T(int64, 3)], {"dtype": bool_}), ([T(bool_, 3)], {"dtype": int32}),
             ([T(float64, 3)], {"dtype": float32})],
    "copy": [([T(F, 3)], {})],
    "slice": [([T(F, 4, 5)], {"key": ((1, None, 2), None, -1)}),
              ([T(F, 4, 5)], {"key": (0,)}),
              ([T(F, 4, 5)], {"key": ((None, None, -1), (-3, None, None))}),
              ([T(F, 4, 5)], {"key": ()})],
    "slice_scatter": [([T(F, 4, 5), T(F, 2, 5)], {"key": ((0, 2, None),)}),
                      ([T(F, 4, 5), 0.0], {"key": (-1, (None, None, 2))})],
    "dynamic_slice": [([T(F, 6, 5), T(int64)], {"axis": 1, "size": 2, "step": 2})],
    "dynamic_update_slice": [([T(F, 6, 5), T(F, 2, 5), T(int64)], {"axis": 0, "step": 1})],
    "gather": [([T(F, 4, 5), T(int64, 3)], {"key": ("T", (None, None, None))}),
               ([T(F, 4, 5), T(int64, 3), T(int64, 3)], {"key": ("T", "T")}),
               ([T(F, 4, 5), T(int64, 4, 1), T(int64, 1, 5)], {"key": ("G", "G")}),
               ([T(F, 4, 5), T(bool_, 4, 5)], {"key": ("T",)}, (7,))],
    "index_put": [([T(F, 4, 5), T(F, 3, 5), T(int64, 3)], {"key": ("T",), "accumulate": True}),
                  ([T(F, 4, 5), 0.0, T(bool_, 4, 5)], {"key": ("T",), "accumulate": False}),
                  ([T(int64, 4, 5), -1, T(int64, 2)], {"key": ((None, None, None), "T"),
                                                       "accumulate": False})],
    "full": [([], {"shape": (2, 3), "value": -INF, "dtype": float32}),
             ([], {"shape": (), "value": 0, "dtype": int64}),
             ([], {"shape": (4,), "value": True, "dtype": bool_})],
    "check_range": [([T(F, 2, 3)], {"axis": None, "keepdims": False, "lo": 0.0, "hi": 1.0,
                                    "op": "binary_cross_entropy"})],
    "numel": [([], {"shape": (5, 2), "axis": None, "correction": 0, "dtype": float32}),
              ([], {"shape": (5, 3, 2), "axis": (0, 2), "correction": 1, "dtype": int64})],
    "arange": [([], {"start": 0, "stop": 10, "step": 3, "dtype": int64}),
               ([], {"start": 0.5, "stop": -1.0, "step": -0.25, "dtype": float64})],
    "inv": [([T(F, 3, 3)], {})],
    "det": [([T(float64, 2, 3, 3)], {})],
    "cholesky": [([T(float64, 3, 3)], {})],
    "eigh_values": [([T(F, 2, 3, 3)], {})],
    "eigh_vectors": [([T(float64, 3, 3)], {})],
    "qr_q": [([T(float64, 4, 3)], {"mode": "reduced"})],
    "qr_r": [([T(F, 3, 5)], {"mode": "complete"})],
    "lu_factor": [([T(float64, 3, 3)], {"check_errors": True})],
    "lu_pivots": [([T(F, 2, 4, 3)], {"check_errors": False})],
    "svd_u": [([T(float64, 4, 3)], {"full_matrices": False})],
    "svd_s": [([T(F, 2, 3, 4)], {"full_matrices": False})],
    "svd_vh": [([T(float64, 4, 3)], {"full_matrices": True})],
    "matmul": [([T(F, 2, 3), T(F, 3, 4)], {}), ([T(float64, 5, 2, 3), T(float64, 3, 4)], {})],
    "reshape": [([T(F, 2, 3)], {"shape": (6,)}), ([T(F, 6)], {"shape": (3, 1, 2)}),
                ([T(F, 1)], {"shape": ()})],
    "transpose": [([T(F, 2, 3)], {"perm": (1, 0)}), ([T(F, 2, 3, 4)], {"perm": (2, 0, 1)})],
    "expand": [([T(F, 1, 3)], {"shape": (4, 3)}), ([T(F, 3)], {"shape": (2, 5, 3)})],
    "as_strided": [([T(F, 4, 4)], {"size": (3, 3), "stride": (4, 1), "offset": 1})],
    "fft": [([T(F, 3, 4, 2)], {"axes": (0, 1), "inverse": True, "scale": 0.25})],
    "concat": [([T(F, 2, 3), T(F, 4, 3), T(F, 1, 3)], {"axis": 0}),
               ([T(F, 2, 3)], {"axis": 1})],
    "sum": [([T(F, 2, 3)], {"axis": None, "keepdims": False}),
            ([T(F, 2, 3)], {"axis": (0,), "keepdims": True}),
            ([T(bool_, 2, 3, 4)], {"axis": (0, 2), "keepdims": False})],
    "amax": [([T(F, 2, 3)], {"axis": (1,), "keepdims": False})],
    "prod": [([T(F, 2, 3)], {"axis": (1,), "keepdims": True}),
             ([T(int64, 4)], {"axis": None, "keepdims": False})],
    "cumsum": [([T(F, 2, 3)], {"axis": 1}), ([T(bool_, 4)], {"axis": 0})],
    "cumprod": [([T(float64, 3, 2)], {"axis": 0})],
    "argsort": [([T(F, 2, 3)], {"axis": 1, "descending": True, "stable": True})],
    "amin": [([T(int64, 2, 3)], {"axis": None, "keepdims": True})],
    "argmax": [([T(F, 2, 3)], {"axis": (1,), "keepdims": False})],
    "argmin": [([T(F, 2, 3)], {"axis": None, "keepdims": False})],
}

# random primitives: the operand is a generator state i64[2] (seed, offset)
SAMPLES.update({
    "uniform": [([T(int64, 2)], {"shape": (2, 3), "dtype": float32}),
                ([T(int64, 2)], {"shape": (), "dtype": float64})],
    "normal": [([T(int64, 2)], {"shape": (4,), "dtype": float32})],
    "randint": [([T(int64, 2)], {"shape": (3,), "low": -2, "high": 5, "dtype": int64})],
    "randperm": [([T(int64, 2)], {"n": 6, "dtype": int64})],
    "multinomial": [([T(int64, 2), T(float32, 2, 5)], {"num_samples": 3, "replacement": False})],
    "rng_advance": [([T(int64, 2)], {"count": 12})],
})
SAMPLES["all_reduce"] = [([T(F, 2, 3)], {"op": "sum"}), ([T(int64, 4)], {"op": "max"})]


def build(entries, name="step"):
    """A graph applying each (prim name, sample) in order, every node typed by its shape rule."""
    g = Graph(name=name)
    counter = iter(range(10**6))
    for prim_name, sample in entries:
        operands, attrs = sample[0], sample[1]
        prim = PRIMITIVES[prim_name]
        inputs = []
        for op in operands:
            if isinstance(op, tuple) and len(op) == 2 and isinstance(op[0], DType):
                v = Value(f"a{next(counter)}", op[1], op[0])
                g.inputs.append(v)
                inputs.append(v)
            else:
                inputs.append(op)
        aval = infer_aval(prim, inputs, attrs)
        shape = sample[2] if len(sample) > 2 else aval.shape
        out = Value(str(len(g.nodes)), shape, aval.dtype)
        loc = Loc(f"/home/user/proj/{prim_name}_demo.py", 10 + len(g.nodes),
                  f"y = {prim_name}(x)  # comment with 'quotes' and {{braces}}")
        g.nodes.append(Node(prim, inputs, attrs, out, loc))
    if g.nodes:
        g.outputs = [g.nodes[-1].out]
        g.writes = [("@state", g.nodes[0].out)]
    return g


def same_data(a, b):
    """Equal and of the same Python types all the way down (1 != 1.0 != True here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a is b if isinstance(a, DType) else a == b


def assert_same_graph(g, h):
    assert (g.name, g.stage) == (h.name, h.stage)
    assert [(v.name, v.shape, v.dtype) for v in g.inputs] == [(v.name, v.shape, v.dtype) for v in h.inputs]
    assert [(v.name, v.shape, v.dtype, lab) for v, lab in g.lifted] == \
        [(v.name, v.shape, v.dtype, lab) for v, lab in h.lifted]
    assert len(g.nodes) == len(h.nodes)
    for a, b in zip(g.nodes, h.nodes):
        assert a.prim is b.prim
        assert (a.out.name, a.out.shape, a.out.dtype) == (b.out.name, b.out.shape, b.out.dtype)
        assert list(a.attrs) == list(b.attrs) and all(same_data(a.attrs[k], b.attrs[k]) for k in a.attrs)
        assert len(a.inputs) == len(b.inputs)
        for x, y in zip(a.inputs, b.inputs):
            if isinstance(x, Value):
                assert isinstance(y, Value) and x.name == y.name
            else:
                assert same_data(x, y)
        if a.loc is None:
            assert b.loc is None
        else:
            assert (b.loc.line, b.loc.text) == (a.loc.line, a.loc.text)
            assert b.loc.file == a.loc.file.rsplit("/", 1)[-1]
    assert [v.name for v in g.outputs] == [v.name for v in h.outputs]
    assert [(lab, v.name) for lab, v in g.writes] == [(lab, v.name) for lab, v in h.writes]


def roundtrip(g, **kw):
    text = print_graph(g, **kw)
    parsed = parse_graph(text)
    assert print_graph(parsed, **kw) == text
    verify(parsed)
    return parsed, text


def test_every_primitive_has_a_sample():
    missing = sorted(set(PRIMITIVES) - set(SAMPLES))
    assert not missing, f"add IR round-trip samples for {missing} to tests/ir/test_parser.py"
    assert not set(SAMPLES) - set(PRIMITIVES), "samples for primitives that no longer exist"


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_roundtrip_each_primitive(name):
    g = build([(name, s) for s in SAMPLES.get(name, [])])
    assert g.nodes, f"no sample for {name}"
    verify(g)
    parsed, _ = roundtrip(g)
    assert_same_graph(g, parsed)


def test_roundtrip_all_primitives_in_one_graph():
    g = build([(n, s) for n in sorted(SAMPLES) for s in SAMPLES[n]])
    g.lifted = [(Value("w", (3,), float32), "@w"), (Value("m", (3,), float32), "@opt.state[0].m")]
    g.stage = "after cse"
    parsed, text = roundtrip(g)
    assert_same_graph(g, parsed)
    assert parse_graph(text).stage == "after cse"


def test_roundtrip_without_locs():
    g = build([("add", SAMPLES["add"][0]), ("sum", SAMPLES["sum"][1])])
    parsed, text = roundtrip(g, show_locs=False)
    assert "#" not in text.split("\n", 1)[1]
    assert all(n.loc is None for n in parsed.nodes)


def test_literal_types_survive():
    g = build([("add", ([T(F, 2), 1], {})), ("add", ([T(F, 2), 1.0], {})),
               ("add", ([T(F, 2), True], {})), ("mul", ([T(F, 2), -3], {})),
               ("mul", ([T(F, 2), -0.0], {})), ("mul", ([T(F, 2), 1e-30], {})),
               ("add", ([T(F, 2), float("nan")], {})), ("add", ([T(F, 2), -INF], {}))])
    parsed, _ = roundtrip(g)
    lits = [n.inputs[1] for n in parsed.nodes]
    assert [type(x) for x in lits] == [int, float, bool, int, float, float, float, float]
    assert lits[0] == 1 and lits[3] == -3 and lits[5] == 1e-30 and lits[7] == -INF
    assert math.copysign(1, lits[4]) == -1 and math.isnan(lits[6])


def test_attr_types_survive():
    g = build([("full", ([], {"shape": (2,), "value": 1, "dtype": float32})),
               ("full", ([], {"shape": (2,), "value": 1.0, "dtype": float32})),
               ("clamp", ([T(F, 2)], {"lo": -1, "hi": 2.0}))])
    parsed, _ = roundtrip(g)
    assert type(parsed.nodes[0].attrs["value"]) is int
    assert type(parsed.nodes[1].attrs["value"]) is float
    assert parsed.nodes[0].attrs["dtype"] is float32
    assert parsed.nodes[2].attrs == {"lo": -1, "hi": 2.0}
    assert type(parsed.nodes[2].attrs["lo"]) is int


def test_quoted_names_and_labels_roundtrip():
    x = Value("a b", (2,), float32)
    w = Value("w:1", (2,), float32)
    y = Value("%y", (2,), float32)
    g = Graph(name="<lambda>", inputs=[x], lifted=[(w, "no at sign"), (Value("q", (), int64), "@q(0)")],
              nodes=[Node(PRIMITIVES["add"], [x, w], {}, y)], outputs=[y],
              writes=[("@w, really", y), ("@plain.grad", y)])
    parsed, text = roundtrip(g)
    assert "def '<lambda>'(%'a b': f32[2])" in text
    assert_same_graph(g, parsed)


def test_long_header_and_return_wrap_and_roundtrip():
    xs = [Value(f"input_number_{i}", (128, 256), float32) for i in range(8)]
    ws = [(Value(f"w{i}", (256,), float32), f"@model.layer{i}.weight") for i in range(8)]
    nodes = [Node(PRIMITIVES["neg"], [x], {}, Value(f"n{i}", x.shape, x.dtype)) for i, x in enumerate(xs)]
    g = Graph(inputs=xs, lifted=ws, nodes=nodes, outputs=[n.out for n in nodes],
              writes=[(lab, v) for v, lab in ws])
    parsed, text = roundtrip(g)
    assert_same_graph(g, parsed)
    assert max(len(line) for line in text.splitlines()) <= 100


def test_empty_graph_roundtrip():
    parsed, text = roundtrip(Graph())
    assert text == "# stage: traced\ndef step():\n  return ()\n"
    assert parsed.nodes == [] and parsed.outputs == []


def test_loc_text_with_odd_characters():
    x = Value("x", (2,), float32)
    outs = []
    nodes = []
    for i, text in enumerate(["", "y = x  # trailing comment", "s = '#:{}'  ", "a:1  b", "\u00e9t\u00e9 = x"]):
        v = Value(f"v{i}", (2,), float32)
        nodes.append(Node(PRIMITIVES["copy"], [x], {}, v, Loc(f"dir/my file-{i}.py", i, text)))
        outs.append(v)
    g = Graph(inputs=[x], nodes=nodes, outputs=outs)
    parsed, _ = roundtrip(g)
    assert [n.loc.text for n in parsed.nodes] == [n.loc.text for n in nodes]
    assert [n.loc.file for n in parsed.nodes] == [f"my file-{i}.py" for i in range(5)]


def test_parse_hand_written_text():
    text = """
        # stage: traced
        def step(%x: f32[2, 3]) lifted(%w: f32[3] @w):
          # a comment line is fine
          %h = mul %x, %w : f32[2,3]
          %s = sum %h {keepdims=False, axis=(0, 1)} : f32[]   # f.py:3
          %n = add %s, -1 : f32[]

          return (%n, %s) writes(@w <- %w,)
    """
    g = parse_graph(text)
    verify(g)
    assert [n.prim.name for n in g.nodes] == ["mul", "sum", "add"]
    assert list(g.nodes[1].attrs) == ["axis", "keepdims"]   # declared order
    assert g.nodes[1].loc == Loc("f.py", 3, "")
    assert g.nodes[2].inputs[1] == -1 and g.nodes[0].inputs[1] is g.lifted[0][0]
    assert g.writes == [("@w", g.lifted[0][0])]
    assert parse_graph(print_graph(g)) is not None


def test_parse_without_stage_header_defaults_to_traced():
    g = parse_graph("def f(%x: i64[]):\n  return (%x,)\n")
    assert g.stage == "traced" and g.name == "f" and g.outputs == g.inputs


# -- errors ------------------------------------------------------------------------------
HEAD = "# stage: traced\ndef step(%x: f32[2,3], %m: bool[2,3]):\n"


def parse_error(body, **kw):
    with pytest.raises(IRParseError) as e:
        parse_graph(HEAD + body, **kw)
    return e.value


@pytest.mark.parametrize("body, line, words", [
    ("  %0 = frobnicate %x : f32[2,3]\n  return (%0,)\n", 3, "unknown primitive 'frobnicate'"),
    ("  %0 = neg %y : f32[2,3]\n  return (%0,)\n", 3, "unknown value %y"),
    ("  %0 = neg %x : f16[2,3]\n  return (%0,)\n", 3, "unknown dtype 'f16'"),
    ("  %0 = neg %x : f32[2,4]\n  return (%0,)\n", 3, "declared type f32[2,4] differs from f32[2,3]"),
    ("  %0 = neg %x : i64[2,3]\n  return (%0,)\n", 3, "declared type i64[2,3] differs"),
    ("  %0 = neg %x, %x : f32[2,3]\n  return (%0,)\n", 3, "neg takes 1 operands"),
    ("  %0 = concat : f32[2,3]\n  return (%0,)\n", 3, "at least one operand"),
    ("  %0 = sum %x {axis=None} : f32[]\n  return (%0,)\n", 3, "missing ['keepdims']"),
    ("  %0 = sum %x {axis=None, keepdims=False, foo=1} : f32[]\n  return (%0,)\n", 3, "unknown ['foo']"),
    ("  %0 = sum %x {axis=None, axis=None, keepdims=False} : f32[]\n  return (%0,)\n", 3, "given twice"),
    ("  %0 = sum %x {axis=None keepdims=False} : f32[]\n  return (%0,)\n", 3, "bad attrs"),
    ("  %0 = sum %x {axis=(0,), keepdims=(lambda: 1)} : f32[]\n  return (%0,)\n", 3, "unsupported"),
    ("  %0 = cast %x {dtype=float16} : f32[2,3]\n  return (%0,)\n", 3, "unknown name 'float16'"),
    ("  %0 = cast %x {dtype=f32.mro} : f32[2,3]\n  return (%0,)\n", 3, "unsupported"),
    ("  %0 = sum %x {axis=(0,), keepdims=-True} : f32[]\n  return (%0,)\n", 3, "sign only applies"),
    ("  %0 = sum %x {0, keepdims=False} : f32[]\n  return (%0,)\n", 3, "name=value"),
    ("  %0 = neg %x : f32[2,3]\n  %0 = neg %x : f32[2,3]\n  return (%0,)\n", 4, "defined twice"),
    ("  %x = neg %x : f32[2,3]\n  return (%x,)\n", 3, "defined twice"),
    ("  %0 = neg %x : f32[2,3]  # no location here\n  return (%0,)\n", 3, "source location"),
    ("  %0 = neg %x : f32[2,3]\n", 4, "missing 'return'"),
    ("  %0 = neg %x : f32[2,3]\n  return (%0,)\n  %1 = neg %x : f32[2,3]\n", 5, "after the return"),
    ("  %0 = neg %x : f32[2,3]\n  return (%1,)\n", 4, "unknown value %1"),
    ("  return (%x,) writes(@a <- %x, @a <- %m)\n", 3, "written twice"),
    ("  return (%x,) writes(@a = %x)\n", 3, "expected '<-'"),
    ("  %0 = matmul %x, %x : f32[2,2]\n  return (%0,)\n", 3, "matmul rejects"),
    ("  %0 = where %x, %x, 0.0 : f32[2,3]\n  return (%0,)\n", 3, "where rejects"),
    ("  %0 = add %x, foo : f32[2,3]\n  return (%0,)\n", 3, "expected an operand"),
    ("  %0 = add %x, 1 ; f32[2,3]\n  return (%0,)\n", 3, "unexpected character ';'"),
    ("  %0 = neg %x\n  return (%0,)\n", 3, "expected ': type'"),
])
def test_parse_errors_name_the_line(body, line, words):
    err = parse_error(body)
    assert words in str(err)
    assert err.line == line
    assert str(err).startswith(f"line {line}: ")


def test_attrs_are_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    body = (f"  %0 = sum %x {{axis=__import__('os').mkdir({str(marker)!r}), keepdims=False}} : f32[]\n"
            "  return (%0,)\n")
    with pytest.raises(IRParseError, match="unsupported"):
        parse_graph(HEAD + body)
    assert not marker.exists()


def test_check_false_skips_type_inference():
    body = "  %0 = neg %x : f32[9]\n  return (%0,)\n"
    g = parse_graph(HEAD + body, check=False)
    assert g.nodes[0].out.shape == (9,)


def test_bad_header():
    with pytest.raises(IRParseError, match="line 1: expected 'def'"):
        parse_graph("step(%x: f32[2]):\n  return ()\n")
    with pytest.raises(IRParseError, match="empty text"):
        parse_graph("# stage: traced\n\n")
    with pytest.raises(IRParseError, match="expected a label"):
        parse_graph("def step() lifted(%w: f32[2]):\n  return ()\n")
    with pytest.raises(IRParseError, match="line 1: %x is defined twice"):
        parse_graph("def step(%x: f32[2]) lifted(%x: f32[2] @x):\n  return ()\n")


def test_wrapped_return_with_one_output_roundtrips():
    ws = [(Value(f"w{i}", (3,), float32), f"@model.block{i}.linear.weight.grad") for i in range(6)]
    g = Graph(lifted=ws, outputs=[ws[0][0]], writes=[(lab, v) for v, lab in ws])
    parsed, text = roundtrip(g)
    assert "  return (%w0,) writes(\n      @model.block0.linear.weight.grad <- %w0,\n" in text
    assert_same_graph(g, parsed)


def test_check_roundtrip_helper():
    from stepjit.ir.parser import check_roundtrip
    g = build([("clamp", SAMPLES["clamp"][0]), ("gather", SAMPLES["gather"][0])])
    parsed = check_roundtrip(g)
    assert_same_graph(g, parsed)
    # Something the text cannot carry is reported, not silently dropped.
    g.nodes[0].attrs["lo"] = object()
    with pytest.raises(IRParseError):
        check_roundtrip(g)


def test_traced_two_layer_step_roundtrips_and_verifies():
    tracer = pytest.importorskip("stepjit.tracer")
    if not hasattr(tracer, "make_ir"):
        pytest.skip("tracer has no make_ir yet")
    import stepjit as torch
    from stepjit.ir.parser import check_roundtrip

    torch.manual_seed(0)
    w1 = torch.randn(10, 5, requires_grad=True)
    w2 = torch.randn(5, 3, requires_grad=True)

    def step(x, y):
        h_relu = x.mm(w1).clamp(min=0)
        loss = (h_relu.mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-3 * w1.grad)
            w2.sub_(1e-3 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss, x[:, None, 1:3].softmax(-1), x.argmax(1)

    g = tracer.make_ir(step)(torch.randn(4, 10), torch.randn(4, 3))
    verify(g)
    parsed = check_roundtrip(g)
    verify(parsed)
    assert len(parsed.nodes) == len(g.nodes) and {lab for lab, _ in parsed.writes} >= {"@w1", "@w2"}


def test_unusual_locs_roundtrip():
    x = Value("x", (2,), float32)
    nodes = [Node(PRIMITIVES["copy"], [x], {}, Value(f"v{i}", (2,), float32), loc)
             for i, loc in enumerate([Loc("<unknown>", 0, ""), Loc("", 3, "x"), Loc("<stdin>", 1, "  indented"),
                                      Loc("/tmp/<ipython-input-3-ab>", 12, "a = b:1  c")])]
    g = Graph(inputs=[x], nodes=nodes, outputs=[n.out for n in nodes])
    parsed, _ = roundtrip(g)
    assert [(n.loc.file, n.loc.line, n.loc.text) for n in parsed.nodes] == [
        ("<unknown>", 0, ""), ("", 3, "x"), ("<stdin>", 1, "  indented"), ("<ipython-input-3-ab>", 12, "a = b:1  c")]


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_atoms = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                   st.floats(allow_nan=False), st.text(max_size=8),
                   st.sampled_from([float32, float64, int32, int64, bool_]))
_data = st.recursive(_atoms, lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=3),
                                                     st.tuples(inner)), max_leaves=12)


@hypothesis.given(_data, st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats()))
@hypothesis.settings(max_examples=200, deadline=None)
def test_any_attr_data_and_literal_roundtrip(value, literal):
    x = Value("x", (2,), float32)
    g = Graph(inputs=[x], nodes=[
        Node(PRIMITIVES["slice"], [x], {"key": value}, Value("s", (2,), float32)),
        Node(PRIMITIVES["add"], [x, literal], {}, Value("a", (2,), float32))])
    text = print_graph(g)
    parsed = parse_graph(text, check=False)
    assert print_graph(parsed) == text
    assert same_data(parsed.nodes[0].attrs["key"], value)
    assert same_data(parsed.nodes[1].inputs[1], literal)
