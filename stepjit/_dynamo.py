"""`torch._dynamo.reset()` and `torch._dynamo.config`, which scripts written for PyTorch 2 call."""
from .config import dynamo as config  # noqa: F401
from .runtime.compiled import reset  # noqa: F401

import sys as _sys

# `import torch._dynamo.config` (gpt-fast's generate.py) names a submodule: the settings class
# stands for it in sys.modules, so the import statement and the attribute reach one object.
_sys.modules[__name__ + ".config"] = config
