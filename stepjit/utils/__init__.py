"""`stepjit.utils`: PyTorch's `torch.utils` namespace (data loading, checkpointing)."""
from . import checkpoint, data  # noqa: F401
