"""`stepjit.utils`: PyTorch's `torch.utils` namespace (data loading, checkpointing, timing)."""
from . import benchmark, checkpoint, data  # noqa: F401
