"""`stepjit.compile`: the compiled-function object and its trace cache.

A call flattens its arguments, finds the first cached trace whose guards hold,
runs it and writes back what the step mutated. With no matching trace, or when
a data-dependent decision went another way, the Python function is traced
again (its side effects happen then, and only then).
"""
from __future__ import annotations

import functools
import time
import weakref

from ..tracer.trace import flat_args, signature_of, trace as trace_fn
from . import backends, execute, guards
from .log import log_event

BACKENDS = ("interpret", "cpu", "cuda")


class CompiledFunction:
    def __init__(self, fn, backend="cpu", name=None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if backend == "cuda":
            raise NotImplementedError("backend='cuda' is not built yet")
        self.fn = fn
        self.backend = backend
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self.traces = []
        self.programs = {}      # id(trace) -> (trace, program built by the backend)
        self.events = []
        self._one_shot = None
        self._stats = {"calls": 0, "traces": 0, "retraces": 0, "trace_seconds": 0.0}
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args, **kwargs):
        self._stats["calls"] += 1
        flat, treedef = flat_args(args, kwargs)
        signature = signature_of(flat)
        reasons = []
        for tr in self.traces:
            objs = guards.resolve(tr, flat)
            why = guards.failed_guard(tr, treedef, signature, objs)
            if why is not None:
                reasons.append(why)
                continue
            env = execute.run(tr, self._program(tr), objs)
            if env is execute.MISMATCH:
                reasons.append("a data-dependent decision (bool/item/tolist of a tensor) changed")
                continue
            return self._finish(tr, objs, env)
        tr = self._trace(args, kwargs, reasons)
        objs = guards.resolve(tr, flat)
        env = execute.run(tr, self._program(tr), objs)
        if not tr.reusable:
            self.programs.pop(id(tr), None)
        if env is execute.MISMATCH:
            raise RuntimeError(f"stepjit: internal error: a fresh trace of {self.name} disagrees "
                               "with itself on a data-dependent decision")
        return self._finish(tr, objs, env)

    def _program(self, tr):
        program = self.programs.get(id(tr))
        if program is None or program[0] is not tr:
            decisions = [v for v, _ in tr.decisions]
            program = self.programs[id(tr)] = (tr, backends.build(tr.graph, self.backend,
                                                                  keep=decisions))
        return program[1]

    def _finish(self, tr, objs, env):
        execute.write_back(tr, objs, env)
        return execute.results(tr, objs, env)

    def _trace(self, args, kwargs, reasons):
        start = time.perf_counter()
        tr = trace_fn(self.fn, args, kwargs, name=_short(self.name))
        seconds = time.perf_counter() - start
        self._stats["traces"] += 1
        self._stats["trace_seconds"] += seconds
        reason = reasons[-1] if reasons else (self._one_shot or "first call")
        if self.traces or reasons:
            self._stats["retraces"] += 1
        if tr.reusable:
            self.traces.append(tr)
            self._one_shot = None
        else:
            self._one_shot = f"the previous trace described one call only ({tr.why_not_reusable})"
        log_event(self, "trace", reason=reason, trace=tr, seconds=seconds)
        return tr

    def stats(self) -> dict:
        return dict(self._stats, cached_traces=len(self.traces))

    def __get__(self, obj, objtype=None):
        """Decorating a method compiles it per instance."""
        if obj is None:
            return self
        cache = self.__dict__.setdefault("_bound", weakref.WeakKeyDictionary())
        bound = cache.get(obj)
        if bound is None:
            bound = cache[obj] = CompiledFunction(self.fn.__get__(obj, objtype), self.backend,
                                                  self.name)
        return bound


def _short(name):
    return name.split(".")[-1].replace("<", "").replace(">", "") or "step"


def compile(fn=None, *, backend="cpu", **options):
    """Compile a training step (function, method or nn.Module); usable bare or called."""
    if fn is None:
        return lambda f: compile(f, backend=backend, **options)
    if hasattr(fn, "forward") and hasattr(fn, "named_parameters") and not isinstance(fn, type):
        return CompiledFunction(fn.__call__, backend, name=type(fn).__name__)
    return CompiledFunction(fn, backend)
