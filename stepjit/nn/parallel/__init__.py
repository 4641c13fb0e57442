"""stepjit.nn.parallel: DistributedDataParallel over stepjit.distributed (MPI)."""
from .distributed import DistributedDataParallel  # noqa: F401
