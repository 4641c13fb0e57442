"""`stepjit.distributed.rpc`: the names programs test against, without an RPC framework.

stepjit's distributed training is data parallel over MPI; it has no remote procedure calls or
remote references. Training helpers written for PyTorch's pipeline examples still ask
`isinstance(out, torch.distributed.rpc.api.RRef)` on every step, so the type exists (no value
is ever one) and `is_available()` says False, as a PyTorch build without RPC does. Starting
the framework or making a reference raises, naming what is missing.
"""
from __future__ import annotations

from . import api
from .api import RRef, unavailable

__all__ = ["is_available", "init_rpc", "shutdown", "RRef", "rpc_sync", "rpc_async", "remote"]


def is_available() -> bool:
    return False


def init_rpc(*args, **kwargs):
    raise unavailable("rpc.init_rpc")


def shutdown(*args, **kwargs):
    raise unavailable("rpc.shutdown")


def rpc_sync(*args, **kwargs):
    raise unavailable("rpc.rpc_sync")


def rpc_async(*args, **kwargs):
    raise unavailable("rpc.rpc_async")


def remote(*args, **kwargs):
    raise unavailable("rpc.remote")
