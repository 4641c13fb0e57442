"""Programs: what runs a trace's graph, one kind per backend, behind one interface
(program.py says what every program does).

    BACKENDS     backend name -> the module of this package that builds its programs:
                 "interpret" (the IR interpreter, the oracle), "cpu" (Numba loop kernels
                 and BLAS, stepjit/programs/cpu.py), "cuda" (numba.cuda kernels, cuda.py)
    "check:NAME" that backend's program with every value materialized, each checked
                 against the interpreter (check.py)
    "cpu-once"   a cpu program for a graph run once: serial loops, never native

A backend's module is imported when its first program is built, never before: cpu
imports Numba, cuda numba.cuda. In a process that has used CUDA, "cpu" follows the
tensors: a step on CUDA tensors runs on the device (device.py).
"""
from __future__ import annotations

import importlib

from .program import Program  # noqa: F401 - the interface, for readers and implementers

BACKENDS = {"interpret": "interpret", "cpu": "cpu", "cuda": "cuda"}
CHECK = "check:"
ONCE = "cpu-once"    # a cpu program for a graph run once: serial loops (cpu.build_once)


def build(graph, backend, keep=None):
    """A program for `graph` on `backend` (see the module docstring)."""
    if backend.startswith(CHECK):
        from .check import CheckedProgram
        return CheckedProgram(graph, backend[len(CHECK):], keep)
    if backend == ONCE:     # (imported on first use, as every backend's module)
        return importlib.import_module(f"{__name__}.cpu").build_once(graph, keep)
    module = BACKENDS.get(backend)
    if module is None:
        raise NotImplementedError(f"backend {backend!r} is not available; choose from "
                                  + ", ".join(sorted(BACKENDS)))
    return importlib.import_module(f"{__name__}.{module}").build(graph, keep)
