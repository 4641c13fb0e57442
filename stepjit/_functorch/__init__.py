"""`torch._functorch`: only its `config`, which scripts tuned for torch.compile set at import
(gpt-fast's generate.py: `torch._functorch.config.enable_autograd_cache = True`); see config.py."""
from . import config  # noqa: F401
