"""`torch._dynamo.reset()` and `torch._dynamo.config`, which scripts written for PyTorch 2 call."""
from .config import dynamo as config  # noqa: F401
from .runtime.compiled import reset  # noqa: F401
