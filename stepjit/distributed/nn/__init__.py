"""Collectives with autograd (torch.distributed.nn)."""
from . import functional  # noqa: F401
