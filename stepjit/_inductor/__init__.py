"""`torch._inductor`: only its `config`, which PyTorch 2 training scripts set before
`torch.compile` (see config.py)."""
from . import config  # noqa: F401
