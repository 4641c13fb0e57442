"""`torch._dynamo.reset()` and `torch._dynamo.config`, which scripts written for PyTorch 2 call."""
from .runtime.compiled import config, reset  # noqa: F401
