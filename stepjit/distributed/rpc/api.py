"""The RRef type (see the package docstring): an isinstance target that cannot be built."""
from __future__ import annotations


def unavailable(what: str) -> RuntimeError:
    return RuntimeError(f"{what}: stepjit has no RPC framework (torch.distributed.rpc); its "
                        "distributed training is data parallel over MPI (docs/distributed.md)")


class RRef:
    """A remote reference as PyTorch names it; making one needs the RPC framework."""

    def __init__(self, *args, **kwargs):
        raise unavailable("RRef")
