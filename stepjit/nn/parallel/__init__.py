"""stepjit.nn.parallel: DistributedDataParallel over stepjit.distributed (MPI), and
DataParallel with its pieces (one process; on a machine without CUDA it calls the module, as
PyTorch's does)."""
from .data_parallel import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401
from .scatter_gather import gather, parallel_apply, replicate, scatter  # noqa: F401
from .data_parallel import data_parallel  # noqa: F401,E402  (the function, as in PyTorch)

__all__ = ["replicate", "scatter", "parallel_apply", "gather", "data_parallel", "DataParallel",
           "DistributedDataParallel"]
