"""The MPI process group: mpi4py's communicator behind the few calls stepjit makes.

mpi4py is imported only when a process group is made (importing it initializes MPI), so
`import stepjit` works without it, and stepjit.distributed says what to install when it is
missing. Arrays go through mpi4py's buffer interface (no pickling): Allreduce, Bcast,
Allgather, Reduce_scatter_block, Reduce, Gather, Scatter on contiguous NumPy arrays.

Faults. A rank whose Python raises an uncaught exception while a group is up would leave the
others blocked in their next collective forever. `install_abort_hook` makes such a rank print
the traceback under a line naming it, then call MPI_Abort, which makes the launcher
(mpiexec) end every rank of the job at once. A rank killed by a signal is seen by the
launcher, which ends the others the same way.
"""
from __future__ import annotations

import sys
import traceback

import numpy as np

INSTALL_HINT = ("stepjit.distributed needs mpi4py and an MPI library: "
                "pip install 'stepjit[mpi]' (mpi4py and the mpich wheel), or pip install mpi4py "
                "against your cluster's MPI (docs/distributed.md)")


def mpi():
    """mpi4py's MPI module, or an ImportError saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from None
    return MPI


def available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


class MPIGroup:
    """A process group over an MPI communicator (COMM_WORLD's duplicate by default)."""

    def __init__(self, comm=None):
        MPI = mpi()
        self.MPI = MPI
        self.comm = (comm or MPI.COMM_WORLD).Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "product": MPI.PROD}

    # -- the calls the collectives make --------------------------------------------------
    def allgather(self, obj):
        """Small Python objects (headers), pickled by mpi4py."""
        return self.comm.allgather(obj)

    def allreduce(self, array: np.ndarray, op: str) -> np.ndarray:
        array = contiguous(array)
        out = np.empty_like(array)
        self.comm.Allreduce(array, out, op=self._ops["sum" if op == "avg" else op])
        if op == "avg":
            out = _divide(out, self.size)
        return out

    def broadcast(self, array: np.ndarray, src: int) -> np.ndarray:
        buf = contiguous(array).copy()
        self.comm.Bcast(buf, root=src)
        return buf

    def allgather_array(self, array: np.ndarray) -> np.ndarray:
        array = contiguous(array)
        out = np.empty((self.size,) + array.shape, array.dtype)
        self.comm.Allgather(array, out)
        return out

    def reduce(self, array: np.ndarray, dst: int, op: str) -> np.ndarray:
        array = contiguous(array)
        out = np.empty_like(array)
        self.comm.Reduce(array, out, op=self._ops["sum" if op == "avg" else op], root=dst)
        return _divide(out, self.size) if op == "avg" and self.rank == dst else out

    def reduce_scatter(self, stacked: np.ndarray, op: str) -> np.ndarray:
        """stacked: (size, *shape); rank r gets the reduction of every rank's stacked[r]."""
        stacked = contiguous(stacked)
        out = np.empty(stacked.shape[1:], stacked.dtype)
        self.comm.Reduce_scatter_block(stacked, out, op=self._ops["sum" if op == "avg" else op])
        return _divide(out, self.size) if op == "avg" else out

    def gather(self, array: np.ndarray, dst: int):
        array = contiguous(array)
        out = np.empty((self.size,) + array.shape, array.dtype) if self.rank == dst else None
        self.comm.Gather(array, out, root=dst)
        return out

    def scatter(self, stacked, shape, dtype, src: int) -> np.ndarray:
        out = np.empty(shape, dtype)
        self.comm.Scatter(None if stacked is None else contiguous(stacked), out,
                          root=src)
        return out

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)

    def free(self) -> None:
        self.comm.Free()


def contiguous(a: np.ndarray) -> np.ndarray:
    """a itself when C-contiguous, else a C-ordered copy (0-d arrays stay 0-d, which
    np.ascontiguousarray does not keep)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.array(a, order="C")


def _divide(out: np.ndarray, size: int) -> np.ndarray:
    if out.dtype.kind != "f":
        raise TypeError(f"ReduceOp.AVG is only defined for floating-point tensors, not {out.dtype}")
    return out / out.dtype.type(size)


def install_abort_hook(group: MPIGroup) -> None:
    """An uncaught exception on this rank ends the whole job (MPI_Abort), naming the rank."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        sys.stderr.write(f"stepjit.distributed: rank {group.rank} of {group.size} raised "
                         f"{kind.__name__}: {value}; aborting every rank of the job\n")
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        sys.stderr.flush()
        group.abort(1)
        previous(kind, value, tb)   # (not reached: Abort ends the process)

    sys.excepthook = hook
