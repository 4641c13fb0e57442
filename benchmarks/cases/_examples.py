"""Load a program from examples/ for stepjit or, with `import torch` put back, for PyTorch;
and what the tutorial-loop cases share: the framework a variant imports, and their three
variants (stepjit eager, the baseline; stepjit compiled; PyTorch eager where installed)."""
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


def framework(name):
    """The module a variant's step is written against: torch for "torch", else stepjit."""
    if name == "torch":
        import torch
        return torch
    import stepjit
    return stepjit


def eager_compiled_torch(setup):
    """A tutorial loop's variants from `setup(framework_name, compiled=False)`."""
    from ..harness import Variant
    return [Variant("stepjit eager", setup("stepjit")),
            Variant("stepjit compile", setup("stepjit", compiled=True)),
            Variant("torch eager", setup("torch"), unavailable=torch_missing)]
