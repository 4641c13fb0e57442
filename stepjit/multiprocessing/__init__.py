"""`stepjit.multiprocessing`: the standard library's multiprocessing, as torch.multiprocessing
is, with tensors shared between processes.

Everything `multiprocessing` exports is here (Process, Queue, Pool, set_start_method,
get_context, ...), plus PyTorch's additions: `spawn`/`start_processes` (run fn(rank, *args) in
nprocs processes and re-raise a child's exception in the parent), and the sharing strategy
functions. Importing it registers reductions with multiprocessing's pickler, so a tensor
passed to a spawned Process or put on a Queue is moved to shared memory (as PyTorch does) and
the receiver maps the same memory; `model.share_memory()` before starting processes makes
every process train the one model (Hogwild; stepjit/shared_memory.py).
"""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .reductions import init_reductions
from .sharing import get_all_sharing_strategies, get_sharing_strategy, set_sharing_strategy
from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException,  # noqa: F401
                    SpawnContext, spawn, start_processes)
from multiprocessing import ProcessError  # noqa: F401,E402

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies",
           "init_reductions", "spawn", "start_processes", "ProcessContext", "SpawnContext",
           "ProcessRaisedException", "ProcessExitedException"] + list(multiprocessing.__all__)

init_reductions()
