"""Load a program from examples/ for stepjit or, with `import torch` put back, for PyTorch."""
import types
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IMPORT_LINE = "import stepjit as torch\n"


def load_example(name, framework="stepjit"):
    path = EXAMPLES / f"{name}.py"
    source = path.read_text()
    if framework == "torch":
        source = source.replace(IMPORT_LINE, "import torch\n")
    module = types.ModuleType(f"bench_example_{name}_{framework}")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def torch_missing():
    try:
        import torch
    except ImportError:
        return "torch is not installed (optional baseline)"
    from .. import THREADS
    torch.set_num_threads(THREADS)
    return None
