"""Run under `mpiexec -n 2 python fault.py raise|kill`: rank 1 fails while rank 0 waits in a
collective; the job must end (not hang) with an error naming rank 1."""
import os
import signal
import sys

import stepjit as torch
import stepjit.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    if sys.argv[1] == "raise":
        raise ValueError("a bug on rank 1")
    os.kill(os.getpid(), signal.SIGKILL)
dist.all_reduce(torch.ones(3))      # rank 0 blocks here until the launcher ends it
print("rank 0 was not stopped", flush=True)
