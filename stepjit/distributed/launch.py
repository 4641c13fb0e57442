"""`stepjit run -n N script.py [args]`: a script on N processes, through the MPI launcher.

It runs `mpiexec -n N <this Python> script.py args`, with the mpiexec that sits beside this
Python (the one `pip install 'stepjit[mpi]'` puts in the virtual environment), else the first
on PATH, or the one named by --mpiexec or $STEPJIT_MPIEXEC (a cluster's own). Hostfiles and
other launcher options go through --mpi-args; under SLURM, use `srun` directly
(docs/distributed.md).
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

from .. import config


def mpiexec_path(explicit=None) -> str:
    """The MPI launcher to use, or a FileNotFoundError saying how to get one."""
    candidates = [explicit, config.mpiexec(),
                  os.path.join(os.path.dirname(sys.executable), "mpiexec"), shutil.which("mpiexec")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("no mpiexec found beside this Python or on PATH: pip install "
                            "'stepjit[mpi]' (mpi4py and the mpich wheel), or name your MPI's "
                            "launcher with --mpiexec or STEPJIT_MPIEXEC")


def command(nproc, script, script_args=(), mpiexec=None, mpi_args="") -> list:
    return [mpiexec_path(mpiexec), "-n", str(nproc), *shlex.split(mpi_args), sys.executable,
            script, *script_args]


def run(args) -> int:
    try:
        cmd = command(args.nproc, args.script, args.script_args, args.mpiexec, args.mpi_args)
    except FileNotFoundError as e:
        print(f"stepjit run: {e}", file=sys.stderr)
        return 2
    return subprocess.call(cmd)
