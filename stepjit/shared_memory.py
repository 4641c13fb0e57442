"""Tensor storage in memory shared between processes: `Tensor.share_memory_()`,
`Tensor.is_shared()`, `Module.share_memory()`, and the descriptors torch.multiprocessing
pickles shared tensors by.

A shared tensor's data is a plain NumPy array over a `MAP_SHARED` mapping of a file in
/dev/shm (the temporary directory where there is none): a forked child writes the very same
pages, and a spawned child (or any process a tensor is sent to through a torch.multiprocessing
Queue) maps the file by name, PyTorch's "file_system" sharing. In-place updates, eager or
compiled, write into the array a tensor holds, so Hogwild training (each process stepping the
one shared model) works as in PyTorch.

Lifetime: the process that made a segment unlinks its file when the last array over it dies,
unless the segment was ever pickled for another process (which may map it later): those are
unlinked when their maker exits. A process killed outright leaves its files behind, as
PyTorch's file_system strategy can.
"""
from __future__ import annotations

import atexit
import mmap
import os
import tempfile
import weakref

import numpy as np

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
    else tempfile.gettempdir()
PREFIX = "stepjit_shm_"
_EXPORTED = set()        # files pickled for other processes: unlinked at exit
_OPEN = {}               # path -> weakref to this process's segment over it


class Segment(mmap.mmap):
    """A mapping of one shared file, knowing its path and the start address of its bytes."""

    path = ""
    creator = -1

    @property
    def address(self):
        return np.frombuffer(self, np.uint8, count=1).ctypes.data


def _unlink(path, creator):
    if os.getpid() == creator and path not in _EXPORTED:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@atexit.register
def _unlink_exported():
    for path in list(_EXPORTED):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _map(path, nbytes, creator):
    fd = os.open(path, os.O_RDWR)
    try:
        seg = Segment(fd, nbytes)
    finally:
        os.close(fd)
    seg.path, seg.creator = path, creator
    _OPEN[path] = weakref.ref(seg)
    return seg


def share_array(a):
    """A C-contiguous array with a's values, in a new shared segment."""
    fd, path = tempfile.mkstemp(prefix=PREFIX, dir=SHM_DIR)
    try:
        os.ftruncate(fd, max(a.nbytes, 1))
    finally:
        os.close(fd)
    seg = _map(path, max(a.nbytes, 1), os.getpid())
    weakref.finalize(seg, _unlink, path, os.getpid())
    out = np.frombuffer(seg, dtype=a.dtype, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def segment_of(a):
    """The Segment an array's memory lies in, or None."""
    base = a
    while base is not None:
        if isinstance(base, Segment):
            return base
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return None


def describe(a):
    """What another process needs to map `a`: (path, segment size, creator, dtype, shape,
    strides, byte offset). The segment is kept until its maker exits from now on."""
    seg = segment_of(a)
    _EXPORTED.add(seg.path)
    offset = a.__array_interface__["data"][0] - seg.address
    return (seg.path, len(seg), seg.creator, a.dtype.str, a.shape, a.strides, offset)


def attach(path, nbytes, creator, dtype, shape, strides, offset):
    """The array `describe` described, over this process's mapping of the segment."""
    ref = _OPEN.get(path)
    seg = ref() if ref is not None else None
    if seg is None:
        seg = _map(path, nbytes, creator)
    return np.ndarray(shape, np.dtype(dtype), buffer=seg, offset=offset, strides=strides)
