"""`stepjit.utils`: PyTorch's `torch.utils` namespace (data loading)."""
from . import data  # noqa: F401
