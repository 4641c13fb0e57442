"""stepjit/__init__.py loads the public API (stepjit/api.py) on the package's first attribute
read, so importing a layer loads that layer alone (tests/test_layers.py); these check, each in
a fresh interpreter, that the API a user reaches is the same as when it loaded eagerly."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code):
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_import_loads_nothing_until_an_attribute_is_read_then_the_package_is_plain():
    run("""
import sys, types
import stepjit as torch
assert 'stepjit.api' not in sys.modules and 'stepjit.tensor' not in sys.modules
x = torch.randn(2, 3, requires_grad=True)
assert type(torch) is types.ModuleType   # (a plain module: attribute reads take the fast path)
assert torch.tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
assert 'randn' in dir(torch) and torch.__version__ == sys.modules['stepjit.version'].__version__
from stepjit import __version__
# the hooks the API sets: eager backward's code generators, the CUDA backend's eager ops
from stepjit.autograd import generators
from stepjit import dispatch
assert generators.derive_vjp is not None and generators.write_tape is not None
assert dispatch.DEVICE is not None
# each loads its module on first use: one op loads no code generator and no CUDA backend
assert not {'stepjit.codegen.eager_vjp', 'stepjit.codegen.tape_function'} & set(sys.modules)
assert 'stepjit.programs.cuda' not in sys.modules
(x * x).sum().backward()
assert 'stepjit.codegen.eager_vjp' not in sys.modules   # (a plan derives on its second use)
for _ in range(3):
    (x * x).sum().backward()
assert generators.derive_vjp.__module__ == 'stepjit.codegen.eager_vjp'
assert generators.write_tape.__module__ == 'stepjit.codegen.tape_function' 
""")


def test_a_submodule_run_as_main_loads_no_api():
    # the compile helper runs as `python -m stepjit.codegen.compile_helper`: its relative
    # imports must not load the public API it never uses
    run("""
import io, runpy, sys
sys.argv, sys.stdin = ["compile_helper", "1"], io.StringIO("[]")
try:
    runpy.run_module("stepjit.codegen.compile_helper", run_name="__main__")
except SystemExit:
    pass
assert 'stepjit.codegen.machine_cache' in sys.modules
assert 'stepjit.api' not in sys.modules and 'stepjit.ops' not in sys.modules
""")


def test_torch_tensor_is_the_function_after_importing_submodules_first():
    # `tensor` is also the name of a submodule (stepjit/tensor.py), which `import stepjit.nn`
    # loads before the API
    run("""
import stepjit.nn as nn
import stepjit.nn.functional as F
import stepjit as torch
assert callable(torch.tensor), torch.tensor
assert F.relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
assert isinstance(nn.Linear(2, 1).weight, torch.Tensor)
""")


def test_from_imports_and_star_import_load_the_api():
    run("""
import sys
from stepjit import nn, optim
assert 'stepjit.api' in sys.modules
""")
    run("""
from stepjit import *
assert callable(tensor) and randn(2).shape == (2,) and float32 is float
""")


def test_every_api_name_that_is_also_a_submodule_is_listed_as_shadowed():
    """A name the API binds to a non-module that is also a submodule's name must be in
    stepjit/__init__.py's _SHADOWED, or `import stepjit.<it>` would hide the API's meaning."""
    import pkgutil
    import types

    import stepjit
    submodules = {m.name for m in pkgutil.iter_modules(stepjit.__path__)}
    clashes = {n for n in submodules if n in vars(stepjit)
               and not isinstance(vars(stepjit)[n], types.ModuleType)}
    assert clashes == set(stepjit._SHADOWED)
