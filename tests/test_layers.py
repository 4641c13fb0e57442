"""stepjit's packages form a one-way stack (docs/architecture.md, "Layers"): a module imports
modules of its own layer or of layers below it, never above.

Two checks: every import statement in the package (top-level or inside a function) against
the layer order, read from the source; and, in fresh interpreters, importing each layer's
modules loads no module of a higher layer. An import that went up would be listed in
UPWARD with the reason (the list is empty); the test fails when one is no longer needed (so
the list only shrinks) or a new one appears.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stepjit"

# Bottom to top. A module belongs to the layer of the longest prefix that names it; a
# top-level module not named here (torch-surface shims: amp.py, jit.py, ...) is in the api
# layer, so it may import anything and nothing below may import it.
LAYERS = [
    ("ir", ["stepjit.ir", "stepjit.config", "stepjit.errors", "stepjit.profiler",
            "stepjit.progress", "stepjit.version"]),
    ("front end", ["stepjit.tensor", "stepjit.dispatch", "stepjit.ops", "stepjit.autograd",
                   "stepjit.nn", "stepjit.optim", "stepjit.random", "stepjit.defaults",
                   "stepjit._printing", "stepjit.serialization", "stepjit.cuda",
                   "stepjit.accelerator", "stepjit.backends", "stepjit.distributed",
                   "stepjit.utils", "stepjit.distributions", "stepjit.linalg",
                   "stepjit.dtype_info", "stepjit.threads", "stepjit.jit",
                   "stepjit.layouts", "stepjit.shared_memory", "stepjit.multiprocessing",
                   "stepjit.meta", "stepjit.storage"]),
    ("tracer", ["stepjit.tracer"]),
    ("passes", ["stepjit.passes"]),
    ("codegen", ["stepjit.codegen"]),
    ("pipeline", ["stepjit.pipeline"]),
    ("programs", ["stepjit.programs"]),
    ("runtime", ["stepjit.runtime", "stepjit.transforms"]),
    ("api", ["stepjit", "stepjit.cli", "stepjit.compiler", "stepjit._dynamo",
             "stepjit.__main__"]),
]

# (importing module, imported module): why it still goes up. Empty: the front end reaches
# what sits above it through hooks the public API sets (registry.DISPATCH, dispatch.DEVICE,
# autograd/generators.py); a new entry needs a reason a reviewer accepts.
UPWARD = {}


def layer_of(module):
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (i, len(p))
    assert best is not None, f"{module} is in no layer: add it to tests/test_layers.py LAYERS"
    return best[0]


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _target(module, is_package, node, alias):
    if node.level == 0:
        base = node.module
    else:
        parts = module.split(".")[:None if is_package else -1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    full = f"{base}.{alias}"
    as_file = ROOT / (full.replace(".", "/") + ".py")
    return full if as_file.exists() or (ROOT / full.replace(".", "/")).is_dir() else base


def imports(path):
    """(imported stepjit module, line, inside a function?) for every import in `path`."""
    module, is_package = module_name(path), path.name == "__init__.py"
    found = []

    def walk(node, local):
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, local) for a in child.names
                             if a.name.split(".")[0] == "stepjit")
            elif isinstance(child, ast.ImportFrom):
                for a in child.names:
                    t = _target(module, is_package, child, a.name)
                    if t and t.split(".")[0] == "stepjit":
                        found.append((t, child.lineno, local))
            walk(child, inner)

    walk(ast.parse(path.read_text()), False)
    return found


def all_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        for target, line, local in imports(path):
            yield module_name(path), target, line, local


def upward_imports():
    return sorted({(src, dst) for src, dst, _, _ in all_imports()
                   if layer_of(dst) > layer_of(src)})


def test_imports_go_down_the_stack():
    up = upward_imports()
    print("\nupward imports still allowed (tests/test_layers.py UPWARD):")
    for pair in sorted(UPWARD):
        print(f"  {pair[0]} -> {pair[1]}: {UPWARD[pair]}")
    new = [p for p in up if p not in UPWARD]
    assert new == [], ("these imports go up the layer stack (docs/architecture.md, Layers): "
                       f"{new}")
    stale = [p for p in UPWARD if p not in up]
    assert stale == [], f"no longer imported: remove from UPWARD: {stale}"


def test_the_static_check_sees_function_local_imports(tmp_path):
    probe = PACKAGE / "ir" / "_layers_probe.py"
    probe.write_text("def f():\n    from ..runtime import compiled\n")
    try:
        assert imports(probe) == [("stepjit.runtime.compiled", 2, True)]
    finally:
        probe.unlink()


LOADER = r"""
import importlib, json, pkgutil, sys
root, prefixes = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, root)
# The real package: stepjit/__init__.py loads the public API (stepjit/api.py, which imports
# every layer) only on the first attribute read from the package, never for an import.
names = []
for p in prefixes:
    try:
        spec = importlib.util.find_spec(p)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        continue
    names.append(p)
    if spec.submodule_search_locations:
        names += [m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, p + ".")
                  if not m.name.endswith("__main__")]
for n in names:
    importlib.import_module(n)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("stepjit."))))
"""


def _loaded_by(prefixes):
    out = subprocess.run([sys.executable, "-c", LOADER, str(ROOT), json.dumps(prefixes)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_each_layer_loads_nothing_above_it():
    print()
    for top in range(len(LAYERS) - 1):
        name = LAYERS[top][0]
        prefixes = [p for _, ps in LAYERS[:top + 1] for p in ps if p != "stepjit"]
        above = sorted(m for m in _loaded_by(prefixes) if layer_of(m) > top)
        assert above == [], f"importing the layers up to {name} loaded {above}"


def test_import_stepjit_ir_loads_the_ir_alone():
    """`python -c "import stepjit.ir"`, through the real stepjit/__init__.py."""
    out = subprocess.run([sys.executable, "-c", "import json, sys, stepjit.ir; print(json.dumps("
                          "sorted(m for m in sys.modules if m.startswith('stepjit'))))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "stepjit.ir" in loaded
    above = [m for m in loaded if m != "stepjit" and layer_of(m) > 0]
    assert above == [], f"import stepjit.ir loaded {above}"


# Function-local import statements of stepjit modules: each defers a module `import stepjit`
# does not load (stepjit/api.py's hooks load codegen/ and the CUDA backend on first use), or
# sits in a cycle inside the front end (docs/architecture.md, Layers). The count may only go
# down: lower CEILING when it does.
CEILING = 53


def test_function_local_imports_do_not_grow():
    local = sorted({(src, line) for src, _, line, inside in all_imports() if inside})
    assert len(local) <= CEILING, (
        f"{len(local)} function-local stepjit imports, more than the ceiling of {CEILING}: "
        "import at the top of the module, or put the code in the layer it needs")
    assert len(local) > CEILING - 10, (
        f"{len(local)} function-local stepjit imports: lower CEILING to {len(local)}")
