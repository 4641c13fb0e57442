"""Where compiled kernels live on disk, and what happens when the disk says no.

The kernel cache (docs/cache.md) is an optimization: no filesystem may make a step fail.
Two things can stop it:

- STEPJIT_CACHE_DIR (or ~/.cache/stepjit) cannot be created or written: read-only, a path
  under a regular file, /proc. The process then keeps its kernels in a private temporary
  directory, removed at exit, and says so once (a RuntimeWarning). A read-only directory
  that already holds a kernel is still read: only the writes go elsewhere.
- Numba finds no place for its own cache (`cache=True` asks each of its locators in turn:
  the source's `__pycache__`, then the user-wide cache under HOME): "cannot cache function
  ...: no locator available". Before any `cache=True` function is made, `numba_locator`
  checks that one of them accepts the file, and otherwise points Numba's CACHE_DIR at a
  private temporary directory (once per process, with one warning).
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings

from .. import config

_PRIVATE = {}     # "kernels": the process's own kernel directory, "numba": Numba's cache dir


def configured_dir() -> str:
    """The kernel directory the environment asks for."""
    return os.path.join(config.cache_root(), "kernels")


def kernel_dir() -> str:
    """Where kernels are read and written: the configured directory, unless this process found
    it unwritable (then its private one)."""
    path = configured_dir()
    return _PRIVATE["kernels"] if _PRIVATE.get("refused") == path else path


def write_atomic(path: str, data) -> str:
    """Write `data` (str or bytes) to `path` through a temporary file and os.replace, so a
    reader sees the whole file or none. Where the directory cannot be made or written, the
    file goes to the process's private directory instead: the path written is returned."""
    try:
        return _write(path, data)
    except OSError as e:
        private = _private_kernels(os.path.dirname(path), e)
        return _write(os.path.join(private, os.path.basename(path)), data)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w", encoding=None
                       if isinstance(data, bytes) else "utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return path


def _private_kernels(path, err) -> str:
    private = _PRIVATE.get("kernels")
    if private is None:
        private = _PRIVATE["kernels"] = _temporary("stepjit-kernels-")
        warnings.warn(f"stepjit: the kernel cache directory {path} cannot be written "
                      f"({type(err).__name__}: {err.strerror or err}); this process compiles "
                      f"into {private} and keeps nothing on disk. Set STEPJIT_CACHE_DIR to a "
                      "writable directory to keep compiled kernels between runs.",
                      RuntimeWarning, stacklevel=4)
    if path != private:
        _PRIVATE["refused"] = path
    return private


def scratch_dir() -> str:
    """A private directory for this process (no warning): where a kernel goes when its file in
    the cache keeps disappearing under the import (another process clearing the cache)."""
    d = _PRIVATE.get("scratch")
    if d is None:
        d = _PRIVATE["scratch"] = _temporary("stepjit-scratch-")
    return d


def _temporary(prefix) -> str:
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def numba_locator(py_file: str):
    """Make sure Numba can cache functions defined in `py_file`: when none of its locators
    accepts it (read-only directory and unwritable HOME), give Numba a private cache dir."""
    try:
        from numba.core import caching, config
    except ImportError:
        return
    if config.CACHE_LOCATOR_CLASSES:
        return   # the user chose the locators

    def probe():
        pass

    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
    for cls in impl._locator_classes:
        try:
            if cls.from_function(probe, py_file) is not None:
                return
        except Exception:  # noqa: BLE001 - a locator that fails is one that cannot serve
            continue
    if "numba" not in _PRIVATE:
        _PRIVATE["numba"] = config.CACHE_DIR = _temporary("stepjit-numba-")
        warnings.warn(f"stepjit: Numba has nowhere to cache {os.path.basename(py_file)} (its "
                      f"directory and the user cache under HOME are not writable); this process "
                      f"uses {config.CACHE_DIR}. Set NUMBA_CACHE_DIR to a writable directory.",
                      RuntimeWarning, stacklevel=3)
