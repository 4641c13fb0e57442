"""Run a real training program, unchanged, eagerly or compiled, and record its per-step losses.

A program in tests/real/programs/ is a script someone else wrote, with `import torch` changed
to `import stepjit as torch`. It has no step function to decorate, so the harness makes one
without touching the program's text: it parses the program and rewrites, in the AST only,
every *training loop* (an innermost `for`/`while` whose own body calls `.backward(...)`)

    for t in range(2000):                      def __real_step_41():
        y_pred = a + b * x                         y_pred = a + b * x
        loss = (y_pred - y).pow(2).sum()           loss = (y_pred - y).pow(2).sum()
        if loss.item() < 1e-3:          ==>        if loss.item() < 1e-3:
            break                                      return ('break', loss, None)
        loss.backward()                            loss.backward()
        ...                                        ...
                                                   return (None, loss, None)
                                               __real_step_41 = __real_wrap__(__real_step_41, 41)
                                               for t in range(2000):
                                                   __real_r__ = __real_after__(41, __real_step_41())
                                                   if __real_r__[0] == 'break':
                                                       break

and runs the rewritten module with `__name__ == "__main__"`. `__real_wrap__` is
`stepjit.compile(fn, backend=...)` in compiled mode and the identity otherwise, so the eager
run and the compiled run execute the same Python, and the PyTorch recorder
(tests/fixtures/record_real.py) runs the same rewrite with `import torch` put back.

Names. The body becomes a function, so each name it assigns is either a local of that
function or the enclosing scope's (declared `global`, or `nonlocal` inside a function). A name
stays local when nothing outside the loop body refers to it and its first use in the body is
an unconditional plain assignment (so no value flows into it from an earlier iteration or
from before the loop): `y_pred`, `loss`, `output`. Everything else (`running_loss += ...`,
`hidden = repackage(hidden)`, `bnmean_running = 0.999 * bnmean_running + ...`) is the
scope's state that the step rebinds, which a compiled step must write back. Names the body
only reads (the loop variable `t`, weights, the model, the optimizer) are read from the
enclosing scope as before: globals or closure cells of the step.

Control flow: `break` and `continue` of the loop itself (not of loops nested in its body)
become returns the rewritten loop acts on; `return value` inside a function's training loop
returns from the function; a loop's `else` clause stays on the loop.

Losses: the step returns the value bound to the program's *probe* name (`loss` unless the
program's entry in test_real.py says otherwise) after each iteration, and `__real_after__`
records it as a float. The probe is what the program computes as its loss each step; the
program's own printing goes to a captured `print`, kept with the result.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import random
import shutil
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(__file__).resolve().parent / "data"
STEP = "__real_step_{}"
RESULT = "__real_r__"
CONTROLS = ("break", "continue", "return")


class HarnessError(Exception):
    """The program cannot be rewritten as asked (no training loop, no probe...)."""


# ------------------------------------------------------------------ source

def source_of(name: str, framework: str = "stepjit", folder: str = "programs") -> str:
    """The program's text; framework="torch" puts PyTorch's imports back (import lines only)."""
    text = (HERE / folder / f"{name}.py").read_text()
    if framework == "torch":
        text = "\n".join(_torch_import(line) for line in text.splitlines()) + "\n"
    return text


def _torch_import(line: str) -> str:
    stripped = line.lstrip()
    if not stripped.startswith(("import stepjit", "from stepjit")):
        return line
    line = line.replace("stepjit", "torch")
    return line.replace("import torch as torch", "import torch")


# ------------------------------------------------------------------ the rewrite

def _scope_nodes(node):
    """node's descendants in its own scope (nested functions, classes, lambdas and
    comprehensions are other scopes)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield child          # its name is bound here; decorators are evaluated here
            continue
        yield child
        yield from _scope_nodes(child)


def _calls_backward(loop) -> bool:
    for stmt in loop.body:
        if isinstance(stmt, (ast.For, ast.While)):
            continue
        for node in [stmt, *_loop_free_nodes(stmt)]:
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "backward"):
                return True
    return False


def _loop_free_nodes(node):
    """Descendants of node in its scope, not entering nested loops' bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, (ast.For, ast.While)):
            yield child
            continue
        yield child
        yield from _loop_free_nodes(child)


def find_training_loops(tree, lines=None) -> list:
    """(loop, scope) for every training loop: the loops at `lines` if given, else every
    innermost loop whose body (outside nested loops) calls .backward(...)."""
    found = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else scope
            if isinstance(child, ast.ClassDef):
                inner = None             # a class body is not a scope we can rewrite into
            if isinstance(child, (ast.For, ast.While)) and scope is not None:
                wanted = (child.lineno in lines) if lines else _calls_backward(child)
                if wanted:
                    found.append((child, scope))
            visit(child, inner)

    visit(tree, tree)
    if lines and sorted(loop.lineno for loop, _ in found) != sorted(lines):
        missing = sorted(set(lines) - {loop.lineno for loop, _ in found})
        raise HarnessError(f"no loop at line(s) {missing}")
    return found


def _stored_names(stmts) -> list:
    names = []
    for stmt in stmts:
        for node in [stmt, *_scope_nodes(stmt)]:
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.append(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names += [(a.asname or a.name).split(".")[0] for a in node.names]
            elif isinstance(node, ast.NamedExpr):
                names.append(node.target.id)
    return list(dict.fromkeys(names))


def _names_in(node) -> set:
    out = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    out |= {n.name for n in ast.walk(node)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return out


def _declared(scope, kind) -> set:
    return {name for node in _scope_nodes(scope) if isinstance(node, kind) for name in node.names}


def _first_use_is_plain_store(name, body) -> bool:
    """The first top-level statement of body (looking inside `with` blocks) that mentions
    name assigns it unconditionally without reading it (a nested `for` binding it as its
    target counts: `for p in model.parameters(): p.data.add_(...)`)."""
    for stmt in body:
        if name not in _names_in(stmt):
            continue
        if isinstance(stmt, ast.With):
            if any(name in _names_in(item) for item in stmt.items):
                return False
            return _first_use_is_plain_store(name, stmt.body)
        if isinstance(stmt, ast.For):
            targets = {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
            return name in targets and name not in _names_in(stmt.iter)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if value is None or name in _names_in(value):
                return False
            stores = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            return all(n.id != name or isinstance(n.ctx, ast.Store) for n in stores) and \
                any(isinstance(t, (ast.Name, ast.Tuple, ast.List)) for t in targets)
        return False
    return False


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _own_and_nested(node):
    """(names mentioned in node's own scope, the scopes nested directly in it)."""
    names, nested = set(), []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _NESTED):
            nested.append(child)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
                for d in child.decorator_list:
                    sub_names, sub_nested = _own_and_nested(d)
                    names |= sub_names | ({n.id for n in [d] if isinstance(n, ast.Name)})
                    nested += sub_nested
            continue
        if isinstance(child, ast.Name):
            names.add(child.id)
        sub_names, sub_nested = _own_and_nested(child)
        names |= sub_names
        nested += sub_nested
    return names, nested


def _free_names(scope) -> set:
    """Names a nested scope refers to that it does not bind itself: its enclosing scopes'."""
    names, nested = _own_and_nested(scope)
    for inner in nested:
        names |= _free_names(inner)
    bound = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound |= set(_stored_names(scope.body))
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        bound |= {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        bound |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    if isinstance(scope, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        bound |= {n.id for g in scope.generators for n in ast.walk(g.target)
                  if isinstance(n, ast.Name)}
    declared = {name for node in _scope_nodes(scope)
                if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names}
    return names - (bound - declared)


def _outer_names(scope, loop) -> set:
    """The scope's own names mentioned outside the loop's body: in the scope itself (the
    loop's header included), or as free names of the functions, classes and comprehensions
    nested in it (a method's own local `y_pred` is another variable than the loop's)."""
    body = {id(stmt) for stmt in loop.body}
    names = set()

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if id(child) in body:
                continue
            if isinstance(child, _NESTED):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(child.name)
                names.update(_free_names(child))
                continue
            if isinstance(child, ast.Name):
                names.add(child.id)
            walk(child)

    walk(scope)
    return names


class _Control(ast.NodeTransformer):
    """break/continue of the loop and return inside it -> returns of the step function."""

    def __init__(self, probe_expr):
        self.probe = probe_expr

    def _ret(self, kind, value=None):
        return ast.Return(ast.Tuple([ast.Constant(kind), self.probe(),
                                     value or ast.Constant(None)], ast.Load()))

    def visit_Break(self, node):
        return ast.copy_location(self._ret("break"), node)

    def visit_Continue(self, node):
        return ast.copy_location(self._ret("continue"), node)

    def visit_Return(self, node):
        return ast.copy_location(self._ret("return", node.value), node)

    def visit_For(self, node):        # break/continue there belong to the nested loop
        node.orelse = [self.visit(s) for s in node.orelse]
        return node

    visit_While = visit_For

    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef


def _probe_expr(probe, local):
    """The probe's value at a return: a local may be unbound on an early exit."""
    if probe is None:
        return lambda: ast.Constant(None)
    src = f"locals().get({probe!r})" if local else probe
    return lambda: ast.parse(src, mode="eval").body


def rewrite(tree, probe="loss", lines=None):
    """Rewrite tree's training loops in place (module docstring); return their line numbers."""
    loops = find_training_loops(tree, lines)
    if not loops:
        raise HarnessError("no training loop found (no loop whose body calls .backward())")
    for loop, scope in loops:
        _rewrite_loop(loop, scope, probe)
    ast.fix_missing_locations(tree)
    return [loop.lineno for loop, _ in loops]


def _rewrite_loop(loop, scope, probe):
    stored = _stored_names(loop.body)
    outer = _outer_names(scope, loop)
    module = isinstance(scope, ast.Module)
    globals_ = _declared(scope, ast.Global)
    shared = [n for n in stored if n in outer or not _first_use_is_plain_store(n, loop.body)]
    declare = []
    as_global = [n for n in shared if module or n in globals_]
    # In a function, a name nothing outside the body mentions has no binding left for a
    # `nonlocal` once the body moves into the step: it is the step's local (a value carried
    # from one iteration to the next would fail loudly, UnboundLocalError, never silently).
    as_nonlocal = [n for n in shared if n not in as_global and n in outer]
    if as_global:
        declare.append(ast.Global(as_global))
    if as_nonlocal:
        declare.append(ast.Nonlocal(as_nonlocal))
    if probe is not None and probe not in stored and probe not in outer:
        raise HarnessError(f"the loop at line {loop.lineno} never binds the probe {probe!r}")
    probe_local = probe in stored and probe not in shared
    make_probe = _probe_expr(probe, probe_local)
    control = _Control(make_probe)
    body = [control.visit(stmt) for stmt in loop.body]
    name = STEP.format(loop.lineno)
    fn = ast.parse(f"def {name}():\n    pass").body[0]
    fn.body = declare + body + [control._ret(None)]
    wrap = ast.parse(f"{name} = __real_wrap__({name}, {loop.lineno})").body[0]
    calls = ast.parse(
        f"{RESULT} = __real_after__({loop.lineno}, {name}())\n"
        f"if {RESULT}[0] == 'break':\n    break\n"
        + (f"if {RESULT}[0] == 'return':\n    return {RESULT}[2]\n" if not module else "")
    ).body
    # A name the function only reads after the loop (`plot(prediction)`) is bound by the
    # body alone; a dead store gives `nonlocal` its binding without changing what runs.
    binders = [ast.parse(f"if False:\n    {n} = None").body[0] for n in as_nonlocal]
    _insert_before(scope, loop, [*binders, fn, wrap])
    loop.body = calls
    for node in [*binders, fn, wrap, *calls]:
        ast.copy_location(node, loop)


def _insert_before(scope, loop, stmts):
    for parent in ast.walk(scope):
        for fname, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(v is loop for v in value):
                i = next(i for i, v in enumerate(value) if v is loop)
                value[i:i] = stmts
                return
    raise HarnessError(f"cannot place the step of the loop at line {loop.lineno}")


# ------------------------------------------------------------------ running

@dataclass
class Run:
    """What one run of a program left: per-step losses, its printed text, compiled steps."""
    losses: list = field(default_factory=list)
    loops: list = field(default_factory=list)      # the loop line of each recorded step
    printed: str = ""
    compiled: dict = field(default_factory=dict)   # loop line -> CompiledFunction
    module: dict = field(default_factory=dict)


def run(name, framework="stepjit", compiled=False, backend="cpu", probe="loss", lines=None,
        argv=(), data=(), seed=0, echo=False, folder="programs") -> Run:
    """Run <folder>/<name>.py (programs/ or written/) rewritten (see the module docstring)
    under `framework` ("stepjit" or "torch"); compiled=True wraps each training step in stepjit.compile."""
    if compiled and framework != "stepjit":
        raise ValueError("only stepjit runs compiled here")
    path = HERE / folder / f"{name}.py"
    tree = ast.parse(source_of(name, framework, folder), str(path))
    rewrite(tree, probe, lines)
    code = compile(tree, str(path), "exec")
    result = Run()
    out = io.StringIO()

    def wrap(fn, line):
        if not compiled:
            return fn
        import stepjit
        result.compiled[line] = cf = stepjit.compile(fn, backend=backend)
        cf.name = f"{name}_line{line}"
        return cf

    def after(line, r):
        value = r[1]
        result.losses.append(None if value is None else float(value))
        result.loops.append(line)
        return r

    def captured_print(*args, file=None, **kw):
        if file is None or file is sys.stdout:
            builtins.print(*args, file=out, **kw)
            if echo:
                builtins.print(*args, **kw)
        else:
            builtins.print(*args, file=file, **kw)

    main = types.ModuleType("__main__")    # sys.modules' __main__, so pickle finds its classes
    module = main.__dict__
    module.update({"__file__": str(path), "__builtins__": builtins,
                   "__real_wrap__": wrap, "__real_after__": after, "print": captured_print})
    _seed_everything(framework, seed)
    with _argv([str(path), *argv]), _scratch_dir(data), _inert_output(framework), \
            _as_main(main):
        exec(code, module)
    result.printed = out.getvalue()
    result.module = module
    return result


def _seed_everything(framework, seed):
    """Programs that do not seed themselves start from the same state in every run."""
    random.seed(seed)
    np.random.seed(seed)
    import stepjit
    stepjit.manual_seed(seed)
    if framework == "torch":
        import torch
        torch.manual_seed(seed)


@contextlib.contextmanager
def _scratch_dir(data=()):
    """Programs save checkpoints and write files where they run: a fresh directory, holding
    copies of the data files (tests/real/data/) the program reads."""
    saved = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="stepjit-real-") as tmp:
        for name in data:
            shutil.copy(DATA / name, Path(tmp) / name)
        os.chdir(tmp)
        try:
            yield tmp
        finally:
            os.chdir(saved)


class _Anything:
    """Whatever a plotting call returns: callable, indexable, attribute-rich, inert."""

    def __getattr__(self, name):
        return _plot_attr(name)

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getitem__(self, key):
        return _Anything()

    def __iter__(self):
        return iter((_Anything(), _Anything()))


def _plot_attr(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _Anything()


@contextlib.contextmanager
def _inert_output(framework):
    """Plotting and logging libraries are inert stand-ins during the run: matplotlib,
    TensorBoard's SummaryWriter and torchvision (its save_image; transforms a program builds
    for the datasets its header says were replaced by synthetic tensors) are output, not
    training, and absent in CI."""
    names = ("matplotlib", "matplotlib.pyplot", f"{framework}.utils.tensorboard",
             "torchvision", "torchvision.utils", "torchvision.transforms", "torchvision.datasets")
    saved = {n: sys.modules.get(n) for n in names}
    for n in names:
        stub = types.ModuleType(n)
        stub.__getattr__ = _plot_attr
        sys.modules[n] = stub
        parent, _, leaf = n.rpartition(".")
        if parent in sys.modules and parent in names:
            setattr(sys.modules[parent], leaf, stub)
    try:
        yield
    finally:
        for n, mod in saved.items():
            if mod is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = mod


@contextlib.contextmanager
def _as_main(module):
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


@contextlib.contextmanager
def _argv(argv):
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved
