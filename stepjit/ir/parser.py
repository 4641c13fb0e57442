"""Reads the printer's text form back into a Graph: print -> parse -> print is the identity.

The grammar (see printer.py for the layout):

    graph   := ["# stage: " STAGE] header node* return
    header  := "def" NAME "(" [param ("," param)*] ")" ["lifted" "(" [lparam ("," lparam)*] ")"] ":"
    param   := VALUE ":" TYPE            lparam := param LABEL
    node    := VALUE "=" OP [operand ("," operand)*] ["{" attrs "}"] ":" TYPE ["# " LOC]
    return  := "return" "(" [VALUE ("," VALUE)*] ")" ["writes" "(" [LABEL "<-" VALUE ...] ")"]
    LOC     := FILE ":" LINE ["  " TEXT]

Header and return may span lines (the printer wraps long ones) and accept a
trailing comma; other lines starting with '#' are comments. Attribute values
are Python literals read with `ast` and a small converter, never eval:
numbers (also negative, inf, nan), None/True/False, strings, tuples, lists and
dtype names (f32, f64, i32, i64, bool). Every node's declared type is checked
against its primitive's shape rule (pass check=False to skip); any mistake
raises IRParseError naming the line.
"""
from __future__ import annotations

import ast
import re

from ..errors import StepjitError
from .graph import Graph, Loc, Node, Value
from .primitives import PRIMITIVES
from .types import ALL_DTYPES
from .verifier import infer_aval, type_mismatch


class IRParseError(StepjitError):
    """Text that is not valid stepjit IR; `line` is the 1-based line number."""

    def __init__(self, message: str, line: int | None = None, text: str | None = None):
        self.line = line
        full = message if line is None else f"line {line}: {message}"
        if text is not None:
            full += f"\n    {text.strip()}"
        super().__init__(full)


_DTYPES = {d.short: d for d in ALL_DTYPES}
_DTYPES.update({d.name: d for d in ALL_DTYPES})

_STR = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_TOKEN = re.compile(rf"""
    \s*(?:
      (?P<COMMENT>\#.*)
    | (?P<STRING>{_STR})
    | (?P<ARROW><-)
    | (?P<VALUE>%(?:[\w.]+|{_STR}))
    | (?P<LABEL>@[^\s,()'"{{}}\#<>%@]+)
    | (?P<TYPE>[A-Za-z_]\w*\[[0-9,\s]*\])
    | (?P<NUMBER>-?(?:(?:inf|nan)\b|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
    | (?P<NAME>[A-Za-z_][\w.]*)
    | (?P<PUNCT>[=,:()\[\]{{])
    )""", re.VERBOSE)
_STRING = re.compile(_STR)
_LOC = re.compile(r"(?P<file>.*?):(?P<line>\d+)(?:  (?P<text>.*))?\Z", re.DOTALL)
_WS = re.compile(r"\s*\Z")


_CLOSE = {"(": ")", "[": "]", "{": "}"}


def _block_end(text: str, pos: int, toks) -> int:
    """Index of the '}' closing a '{' that ends just before `pos`; skips strings."""
    stack = ["}"]
    while pos < len(text):
        c = text[pos]
        if c in "'\"":
            m = _STRING.match(text, pos)
            if m is None:
                toks.error("unterminated string in attrs")
            pos = m.end()
            continue
        if c in _CLOSE:
            stack.append(_CLOSE[c])
        elif c in ")]}":
            if c != stack.pop():
                toks.error(f"unbalanced {c!r} in attrs")
            if not stack:
                return pos
        pos += 1
    toks.error("'{' of the attrs is never closed")


class _Tokens:
    """The tokens of one statement (a line, or a wrapped header/return)."""

    def __init__(self, text: str, lineno: int):
        self.text = text
        self.lineno = lineno
        self.toks = []   # (kind, text, start, end)
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                if _WS.match(text, pos):
                    break
                bad = text[pos:].lstrip()[:1]
                self.error(f"unexpected character {bad!r}")
            kind = m.lastgroup
            if kind == "PUNCT" and m.group(kind) == "{":
                # An attr block is one token: its inner text goes to ast as a whole.
                end = _block_end(text, m.end(), self)
                self.toks.append(("ATTRS", text[m.end():end], m.start(kind), end + 1))
                pos = end + 1
                continue
            self.toks.append((kind, m.group(kind), m.start(kind), m.end()))
            pos = m.end()
        self.i = 0

    def error(self, message):
        raise IRParseError(message, self.lineno, self.text)

    def peek(self, kind=None, text=None):
        if self.i >= len(self.toks):
            return None
        tok = self.toks[self.i]
        if (kind is not None and tok[0] != kind) or (text is not None and tok[1] != text):
            return None
        return tok

    def take(self, kind=None, text=None, what=None):
        tok = self.peek(kind, text)
        if tok is None:
            got = "end of line" if self.i >= len(self.toks) else repr(self.toks[self.i][1])
            self.error(f"expected {what or text or kind}, got {got}")
        self.i += 1
        return tok

    def accept(self, kind=None, text=None):
        tok = self.peek(kind, text)
        if tok is not None:
            self.i += 1
        return tok

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def expect_end(self):
        if not self.done():
            self.error(f"unexpected {self.toks[self.i][1]!r}")


# -- atoms -----------------------------------------------------------------------
def _string(tok_text: str, toks: _Tokens) -> str:
    try:
        node = ast.parse(tok_text, mode="eval").body
    except SyntaxError:
        toks.error(f"bad string literal {tok_text}")
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        toks.error(f"expected a string literal, got {tok_text}")
    return node.value


def _value_name(tok_text: str, toks: _Tokens) -> str:
    body = tok_text[1:]
    return _string(body, toks) if body[:1] in "'\"" else body


def _label(toks: _Tokens) -> str:
    tok = toks.accept("LABEL")
    if tok is not None:
        return tok[1]
    tok = toks.take("STRING", what="a label (@name)")
    return _string(tok[1], toks)


def _type(toks: _Tokens):
    tok = toks.take("TYPE", what="a type like f32[2,3]")
    text = tok[1]
    head, _, dims = text.partition("[")
    dtype = _DTYPES.get(head)
    if dtype is None:
        toks.error(f"unknown dtype {head!r} in type {text}; expected one of "
                   + ", ".join(d.short for d in ALL_DTYPES))
    dims = dims[:-1].replace(" ", "")
    try:
        shape = tuple(int(d) for d in dims.split(",")) if dims else ()
    except ValueError:
        toks.error(f"bad shape in type {text}")
    return shape, dtype


def _number(text: str):
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


# -- attribute values: Python literals through ast, never eval -------------------------
def _attr_value(node, toks: _Tokens):
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, (bool, int, float, str)):
            return node.value
        toks.error(f"unsupported literal {node.value!r} in attrs")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _attr_value(node.operand, toks)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            toks.error("a sign only applies to a number in attrs")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Tuple):
        return tuple(_attr_value(e, toks) for e in node.elts)
    if isinstance(node, ast.List):
        return [_attr_value(e, toks) for e in node.elts]
    if isinstance(node, ast.Name):
        if node.id in _DTYPES:
            return _DTYPES[node.id]
        if node.id in ("inf", "nan"):
            return float(node.id)
        toks.error(f"unknown name {node.id!r} in attrs (dtypes are "
                   + ", ".join(d.short for d in ALL_DTYPES) + ")")
    toks.error(f"unsupported expression {ast.unparse(node)!r} in attrs")


# Traced graphs repeat the same few attr blocks ({axis=None, keepdims=False}) many times.
_ATTR_CACHE: dict = {}


def _attrs(toks: _Tokens) -> dict:
    """`{a=..., b=...}` (one ATTRS token); returns the dict in text order."""
    inner = toks.take("ATTRS")[1]
    cached = _ATTR_CACHE.get(inner)
    if cached is not None:
        return dict(cached)
    if not inner.strip():
        return {}
    try:
        call = ast.parse(f"_({inner})", mode="eval").body
    except SyntaxError as e:
        toks.error(f"bad attrs {{{inner}}}: {e.msg}")
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        toks.error(f"attrs must be name=value pairs, got {{{inner}}}")
    out = {}
    for kw in call.keywords:
        if kw.arg in out:
            toks.error(f"attr {kw.arg!r} is given twice")
        out[kw.arg] = _attr_value(kw.value, toks)
    if "[" not in inner:   # no lists: only immutable data is shared between nodes
        if len(_ATTR_CACHE) >= 4096:
            _ATTR_CACHE.clear()
        _ATTR_CACHE[inner] = out
    return dict(out)


# -- statements ------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, check: bool):
        self.lines = text.split("\n")
        self.check = check
        self.values = {}   # name -> Value
        self.n = 0         # index of the next line

    def define(self, v: Value, toks: _Tokens):
        if v.name in self.values:
            toks.error(f"%{v.name} is defined twice")
        self.values[v.name] = v

    def use(self, tok, toks: _Tokens) -> Value:
        name = _value_name(tok[1], toks)
        v = self.values.get(name)
        if v is None:
            toks.error(f"unknown value %{name}")
        return v

    def next_statement(self) -> _Tokens | None:
        """The next non-blank, non-comment statement; a header or return line is joined
        with the lines after it while its brackets are open (the printer wraps long ones)."""
        while self.n < len(self.lines):
            start = self.n
            text = self.lines[self.n].rstrip("\r")
            self.n += 1
            toks = _Tokens(text, start + 1)
            if not toks.toks or toks.toks[0][0] == "COMMENT":
                continue
            wrapped = toks.toks[0][0] == "NAME" and toks.toks[0][1] in ("def", "return")
            depth = self._depth(toks) if wrapped else 0
            while depth > 0 and self.n < len(self.lines):
                text += " " + self.lines[self.n].rstrip("\r")
                self.n += 1
                toks = _Tokens(text, start + 1)
                depth = self._depth(toks)
            return toks
        return None

    @staticmethod
    def _depth(toks: _Tokens) -> int:
        depth = 0
        for kind, text, _, _ in toks.toks:
            if kind == "PUNCT" and text in "([{":
                depth += 1
            elif kind == "PUNCT" and text in ")]}":
                depth -= 1
        return depth

    def parse(self) -> Graph:
        graph = Graph()
        self._stage(graph)
        toks = self.next_statement()
        if toks is None:
            raise IRParseError("empty text: expected 'def NAME(...):'")
        self._header(toks, graph)
        while True:
            toks = self.next_statement()
            if toks is None:
                raise IRParseError("missing 'return' line", len(self.lines))
            if toks.peek("NAME", "return"):
                self._return(toks, graph)
                break
            graph.nodes.append(self._node(toks))
        toks = self.next_statement()
        if toks is not None:
            toks.error("text after the return line")
        return graph

    def _stage(self, graph):
        for k, line in enumerate(self.lines):
            s = line.strip()
            if not s:
                continue
            if s.startswith("# stage:"):
                graph.stage = s[len("# stage:"):].strip()
                self.n = k + 1
            return

    def _header(self, toks: _Tokens, graph):
        toks.take("NAME", "def", what="'def'")
        name = toks.accept("NAME") or toks.take("STRING", what="the graph's name")
        graph.name = name[1] if name[0] == "NAME" else _string(name[1], toks)
        graph.inputs = self._params(toks, lifted=False)
        if toks.accept("NAME", "lifted"):
            graph.lifted = self._params(toks, lifted=True)
        toks.take("PUNCT", ":", what="':' ending the header")
        toks.expect_end()

    def _params(self, toks: _Tokens, lifted: bool) -> list:
        out = []
        toks.take("PUNCT", "(")
        while not toks.accept("PUNCT", ")"):
            tok = toks.take("VALUE", what="a parameter %name")
            toks.take("PUNCT", ":")
            shape, dtype = _type(toks)
            v = Value(_value_name(tok[1], toks), shape, dtype)
            self.define(v, toks)
            out.append((v, _label(toks)) if lifted else v)
            if not toks.accept("PUNCT", ","):
                toks.take("PUNCT", ")", what="',' or ')'")
                break
        return out

    def _node(self, toks: _Tokens) -> Node:
        out_tok = toks.take("VALUE", what="'%name = op ...' or 'return'")
        toks.take("PUNCT", "=")
        op = toks.take("NAME", what="a primitive name")[1]
        prim = PRIMITIVES.get(op)
        if prim is None:
            toks.error(f"unknown primitive {op!r}")
        inputs = []
        if not (toks.peek("ATTRS") or toks.peek("PUNCT", ":")):
            while True:
                inputs.append(self._operand(toks))
                if not toks.accept("PUNCT", ","):
                    break
        attrs = _attrs(toks) if toks.peek("ATTRS") else {}
        toks.take("PUNCT", ":", what="': type'")
        shape, dtype = _type(toks)
        loc = None
        comment = toks.accept("COMMENT")
        if comment is not None:
            loc = self._loc(comment[1], toks)
        toks.expect_end()
        self._check_signature(prim, inputs, attrs, toks)
        attrs = {k: attrs[k] for k in prim.attrs}
        v = Value(_value_name(out_tok[1], toks), shape, dtype)
        node = Node(prim, inputs, attrs, v, loc)
        if self.check:
            self._check_type(node, toks)
        self.define(v, toks)
        return node

    def _operand(self, toks: _Tokens):
        tok = toks.accept("VALUE")
        if tok is not None:
            return self.use(tok, toks)
        tok = toks.accept("NUMBER")
        if tok is not None:
            return _number(tok[1])
        tok = toks.accept("NAME")
        if tok is not None and tok[1] in ("True", "False"):
            return tok[1] == "True"
        got = tok[1] if tok else ("end of line" if toks.done() else toks.toks[toks.i][1])
        toks.error(f"expected an operand (%name or a number/True/False), got {got!r}")

    @staticmethod
    def _loc(comment: str, toks: _Tokens) -> Loc:
        body = comment[1:]
        body = body[1:] if body.startswith(" ") else body
        m = _LOC.match(body)
        if m is None:
            toks.error(f"a node's comment must be its source location 'file:line  text', got {comment!r}")
        return Loc(m.group("file"), int(m.group("line")), m.group("text") or "")

    @staticmethod
    def _check_signature(prim, inputs, attrs, toks):
        if prim.variadic:
            if not inputs:
                toks.error(f"{prim.name} takes at least one operand")
        elif len(inputs) != len(prim.inputs):
            toks.error(f"{prim.name} takes {len(prim.inputs)} operands "
                       f"({', '.join(prim.inputs)}), got {len(inputs)}")
        unknown = [k for k in attrs if k not in prim.attrs]
        missing = [k for k in prim.attrs if k not in attrs]
        if unknown or missing:
            toks.error(f"attrs of {prim.name} are {{{', '.join(prim.attrs)}}}"
                       + (f"; unknown {unknown}" if unknown else "")
                       + (f"; missing {missing}" if missing else ""))

    @staticmethod
    def _check_type(node, toks):
        try:
            inferred = infer_aval(node.prim, node.inputs, node.attrs)
        except Exception as e:
            toks.error(f"{node.prim.name} rejects these operands/attrs: {type(e).__name__}: {e}")
        mismatch = type_mismatch(node, inferred)
        if mismatch:
            toks.error(mismatch)

    def _return(self, toks: _Tokens, graph):
        toks.take("NAME", "return")
        toks.take("PUNCT", "(")
        while not toks.accept("PUNCT", ")"):
            graph.outputs.append(self.use(toks.take("VALUE", what="an output %name"), toks))
            if not toks.accept("PUNCT", ","):
                toks.take("PUNCT", ")", what="',' or ')'")
                break
        if toks.accept("NAME", "writes"):
            toks.take("PUNCT", "(")
            seen = set()
            while not toks.accept("PUNCT", ")"):
                label = _label(toks)
                if label in seen:
                    toks.error(f"label {label} is written twice")
                seen.add(label)
                toks.take("ARROW", what="'<-'")
                graph.writes.append((label, self.use(toks.take("VALUE", what="a %name"), toks)))
                if not toks.accept("PUNCT", ","):
                    toks.take("PUNCT", ")", what="',' or ')'")
                    break
        toks.expect_end()


def parse_graph(text: str, *, check: bool = True) -> Graph:
    """Parse the printer's text form into a Graph; raise IRParseError on any mistake.

    With check=True (the default) each node's declared type must match what its
    primitive's shape rule computes. Loc.file becomes the file's basename, as printed.
    """
    return _Parser(text, check).parse()


def check_roundtrip(graph, *, show_locs: bool = True) -> Graph:
    """Print `graph`, parse the text and print again; raise IRParseError unless the two
    texts are identical. Returns the parsed graph. (A test hook for every traced program.)"""
    from .printer import print_graph
    text = print_graph(graph, show_locs=show_locs)
    parsed = parse_graph(text)
    again = print_graph(parsed, show_locs=show_locs)
    if again != text:
        import difflib
        diff = "\n".join(difflib.unified_diff(text.splitlines(), again.splitlines(),
                                               "printed", "reprinted", lineterm="", n=1))
        raise IRParseError(f"print -> parse -> print changed the text:\n{diff}")
    return parsed
