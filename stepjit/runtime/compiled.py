"""`stepjit.compile`: the compiled-function object, its trace tree and its modes.

A call flattens its arguments and walks the trace tree (tree.py): check a
root's guards, run its segment, read the decision, follow the child, ... down
to a leaf, which writes back and returns. Leaving the tree (no root applies, a
decision went a new way, a child's guards fail) traces the Python function
again (its side effects happen then, and only then) and grafts the new trace.

Re-verification. A cached trace replays what Python did when it was traced; if
the step reads Python state the guards cannot see (a counter, a schedule kept
in a Python variable), replaying it is wrong. So a leaf's first reuse, and then
its 8th, 64th, 512th..., traces again instead and grafts that trace: identical
means verified; agreeing on every guard and decision but recording other work
means stale. A stale function warns once (naming the node and line that
changed) and is retraced on every call from then on, its programs still shared
by structural hash.

Hyperparameters that optimizers read from `param_groups` (lr) are per-call
inputs of the graph (tracer/hyperparams.py), so a schedule needs no retrace; so is
a float the step reads from a global, an attribute, a dict or list entry or a
closure cell, from its first change (tracer/symbolic.py).

Recompile limit. A function traced `recompile_limit` times (default
`config.dynamo.recompile_limit`, 8; re-verifications do not count) stops tracing: it
warns once, naming itself and the last reason, and runs eagerly whenever its
cached traces do not apply. A miss only on tensor sizes (a new sequence length) is traced
without counting (`config.dynamo.automatic_dynamic_shapes`; docs/compiler.md "New shapes"); so
is the first call on a new object at a link a trace guards (a meter made per epoch, _renewed)
and a trace of one call that printed now and then (interpreted, it compiles nothing).
"""
from __future__ import annotations

import functools
import inspect
import time
import warnings
import weakref

import numpy as np

from .. import config
from ..errors import EagerFirst, EagerOnly, user_stacklevel
from ..autograd.grad_mode import STATE as GRAD
from ..dispatch import MODE
from ..tensor import Tensor
from ..tracer import bindings, values
from ..tracer.pytree import flatten, unflatten
from ..tracer.helpers import def_loc
from ..tracer.sources import with_traced_names
from ..tracer.draws import host_states, set_host_states, set_rng_state
from ..tracer.trace import aliases_of, flat_args, signature_of, trace as trace_fn
from ..ir.hashing import structural_key
from . import aot, fastcall, guardcode, per_call, writeback
from .fastcall import MISS, UNSURE, Signal
from ..profiler import STATE as PROFILE, on_start, span, timed, user_line
from ..progress import compiling
from .log import log_event
from ..programs import ONCE
from ..programs.program import HOT_REUSE, NATIVE_READY
from .guards import shapes_only
from .tree import NewSizes, Stale, clear_programs, graft
from .walk import DeadEnd, walk
from ..tracer.symbolic import ArgNumber, ConditionGuard, Place, with_numbers

BACKENDS = ("interpret", "cpu", "cuda")
# A leaf is re-verified at its uses 1, 8, 64, 512, ...: its programs are promoted at the
# re-verification of its HOT_REUSE-th use (programs/program.py), a power of this factor.
VERIFY_FACTOR = 8
TREE, PER_CALL, EAGER = "tree", "per-call retracing", "eager"
# A step sent to per-call mode by printing on consecutive calls tries its trace tree again
# after this many calls, then after twice as many each time it goes back (_back_to_tree).
PROBE_FIRST = 8
# A one-shot trace computing at least this many elements in all (~0.25 s of NumPy) is compiled
# rather than interpreted (programs/cpu.py: build_once).
ONCE_MIN_ELEMENTS = 1 << 26
DYNAMIC = "not counted against the recompile limit: config.dynamo.automatic_dynamic_shapes"


def _heavy(tr) -> bool:
    """Does interpreting this trace cost more than compiling it (ONCE_MIN_ELEMENTS)?"""
    total = 0
    for n in tr.graph.nodes:
        size = 1
        for d in n.out.shape:
            size *= d
        total += size
    return total >= ONCE_MIN_ELEMENTS


def _no_fast_call(args, kwargs):
    return MISS


_LIVE = weakref.WeakSet()   # every compiled function, for the profiler's switch below


def _own_class(cls):
    """A subclass of cls for one compiled function, so that its __call__ (which Python looks up
    on the type, never on the instance) can be that function's generated fast call."""
    if cls.__dict__.get("_own_class"):
        return cls
    return type(cls.__name__, (cls,), {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                       "__doc__": cls.__doc__, "_own_class": True})


def _native_ready() -> None:
    """A promoted program went native at a later run of its own (programs/program.py:
    NATIVE_READY): fast calls that ran it as a whole are rebuilt, at the next tree walk, to
    call its native function."""
    for fn in list(_LIVE):
        if fn._fast:
            fn._drop_fast()


NATIVE_READY.append(_native_ready)


@on_start
def _profiling(on: bool) -> None:
    """A profile started (or the last one stopped): calls take the instrumented tree walk
    (or their fast calls again)."""
    for fn in list(_LIVE):
        fn._install()


class CompiledFunction:
    _trace_search = ()    # a trace's searches for tensors and values enter none of its state

    def __init__(self, fn, backend="cpu", name=None, recompile_limit=None, check=None,
                 fullgraph=False):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.__class__ = _own_class(type(self))
        self.fn = fn
        self.backend = backend
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self.recompile_limit = recompile_limit
        self.fullgraph = fullgraph   # torch.compile(fullgraph=True): raise rather than run eagerly
        # -- check mode (stepjit/programs/check.py): segment programs are built as "check:<backend>"
        self.check = check_enabled(check)
        self.program_backend = program_backend(backend, self.check)
        self.events = []
        self.forget()
        functools.update_wrapper(self, fn, updated=())
        _ALL.add(self)

    def forget(self):
        """Drop every trace and program (reset()): the next call traces again."""
        self.roots = []          # the trace tree's root segments
        self.traces = []         # traces grafted onto the tree, in order
        self.mode = TREE
        self.why_mode = None
        self._one_shot = None
        self._one_shot_call = -1        # the call whose trace was per_call_if_again, one-shot
        self._last_gap = 1 << 62        # calls between the two last such traces
        self._limit_warned = False
        self._nondeterministic = None   # values.Nondeterministic met while tracing
        self._changed = {}              # values.where(guard) -> the call its ValueGuard failed
        self._volatile = None           # the ValueGuard that failed twice: traced every call
        self._missed_floats = {}        # where -> misses of a decision on a float read exactly
        self._per_call = None           # why the step's Python runs every call (_go_per_call)
        self._per_call_seen = set()     # structural keys of per-call traces (_recurs)
        self._per_call_eager = False    # a per-call step cheaper run eagerly (per_call.py)
        self._probe = None              # [why_mode, calls left, traces then] before a
                                        # print-driven per-call mode tries the tree again
        self._probe_gap = PROBE_FIRST   # calls in that mode before it tries the tree again
        self._warned = set()            # per-call reasons warned about
        self._int_args = set()          # paths of number arguments read per call
        self._arg_ints = {}             # path -> this call's number there (_read_int_args)
        self._no_symbolic = False       # a symbolic value met code needing a number (_specialize)
        self._uncounted = 0             # traces the recompile limit does not count: a new
                                        # object at a guarded link (_renewed), a call that
                                        # printed now and then (one-shot)
        self._symbolic = {}             # where -> (container, key, label, loc): ints traced
                                        # as SymbolicInts (tracer/symbolic.py)
        self._fast = ()           # fastcall.py: generated calls for the leading leaf roots
        self._entry = None        # self._fast[0] compiled as this function's __call__
        self._install()
        self._fast_segs = {}      # every segment a fast call served (dict: insertion order)
        self._fast_sources = []
        self._fast_stale = False  # the tree grew: rebuild them after the next tree walk
        _LIVE.add(self)
        self._stats = {"calls": 0, "traces": 0, "retraces": 0, "verifications": 0, "stale": 0,
                       "compiles": 0, "programs_built": 0, "programs_reused": 0, "fallbacks": 0,
                       "decision_misses": 0, "evictions": 0, "shape_traces": 0, "eager_calls": 0,
                       "trace_seconds": 0.0,
                       "compile_seconds": 0.0}
        self._evict_marks = {}    # root -> its uses at the previous eviction (_evict)

    # -- the call ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # The steady call of a tiny step costs a few microseconds: this frame does the least it
        # can (the first fast call; a mode other than TREE has none) and leaves the rest below.
        # Not even counting: the calls a fast call serves are counted by its segment (stats()).
        out = self._first(args, kwargs)
        if out.__class__ is Signal:
            return self._after_first(out, args, kwargs)
        return out

    def _after_first(self, out, args, kwargs):
        if MODE.tracer is not None:
            # called while another compiled step is traced (a compiled model inside a compiled
            # training step): inlined into that trace, as torch.compile inlines a nested one
            return self.fn(*with_numbers(args), **with_numbers(kwargs))
        if self.mode is not TREE:
            self._stats["calls"] += 1
            return self._off_tree_call(args, kwargs)
        if out is MISS:
            for fast in self._fast[1:]:
                out = fast(args, kwargs)
                if out is MISS:
                    continue
                if out is UNSURE:
                    break
                return out
        self._stats["calls"] += 1
        return self._tree_call(args, kwargs)

    def _tree_call(self, args, kwargs):
        st = self._stats
        if self._int_args:
            args, kwargs = self._read_int_args(args, kwargs)
        flat, treedef = flat_args(args, kwargs)
        key = (GRAD.enabled, treedef, signature_of(flat), aliases_of(flat))
        found = walk(self.roots, key, flat, self.program_backend, st,
                     self._one_shot or "first call")
        if isinstance(found, DeadEnd):    # (no helper: warnings count the frames to the user's;
                                          # the walk put back what it drew)
            if found.seg is not None:     # a decision went a way no trace took
                st["decision_misses"] += 1
                d = found.seg.decision
                if d.floats_read_exactly():
                    where = ("decision", str(d.loc))
                    if self._changes_every_call(where, found.why):
                        return self._off_tree_call(args, kwargs)
                    if self._changes_when_reached(where, found.why, found.seg):
                        # (results that carry a compiled backward keep eager's history)
                        return self._run_eagerly(args, kwargs,
                                                 detach=found.seg.trace.aot is None)
            return self._miss(args, kwargs, flat, found.why)
        seg, objs, env, drawn = found
        seg.uses += 1
        seg.tree_uses += 1
        if seg.uses == seg.verify_at:
            seg.verify_at *= VERIFY_FACTOR
            if drawn is not None:   # the retrace's Python draws what the walk drew
                set_rng_state(drawn)
            return self._retrace(args, kwargs, flat,
                                 f"re-verifying a cached trace at its reuse #{seg.uses}",
                                 verifying=True)
        env = seg.run(env, self.program_backend, st)
        guardcode.write_back(seg.leaf, objs, env)
        if self._fast_stale and self.mode is TREE:
            self._build_fast()
        return writeback.results(seg.leaf, objs, env)

    def _miss(self, args, kwargs, flat, reason):
        guard, values.LAST_FAILED[0] = values.LAST_FAILED[0], None
        if guard is not None and type(guard) is values.ValueGuard \
                and values.where(guard) in self._symbolic:
            # a root traced before this number was read per call (symbolic.py) holds its old
            # value: each such root is traced once more, reading it per call, as for a new
            # shape; not counted by the recompile limit (fastai's `self.epoch`, which the
            # batch step's callbacks may read: the first epoch's train, last-batch and
            # validation roots, retraced in the second epoch, made it run eagerly)
            self._uncounted += 1
        rebound, bindings.LAST_REBOUND[0] = bindings.LAST_REBOUND[0], None
        if rebound is not None and _reported(rebound[0], reason):
            self._renewed(*rebound)
        if guard is not None and type(guard.value) is not bool and _reported(guard, reason) \
                and not _now_an_object(guard):
            # (a bool takes two values: a leaf each, as train() and eval() make)
            # changed on two calls in a row (a loop counter): trace every call from now on,
            # rather than grow the tree by a leaf per value. A float in a dict, a list or a
            # cell is read per call from its first change (symbolic.py): no retrace then.
            calls = self._stats["calls"]
            if self._changed.get(values.where(guard)) == calls - 1 or _liftable(guard):
                self._went_volatile(guard)
                if self.mode is not TREE:
                    return self._off_tree_call(args, kwargs)
            self._changed[values.where(guard)] = calls
        self._symbolic_since_last_trace()
        if self._int_args_changed(args, kwargs):
            args, kwargs = self._read_int_args(args, kwargs)
        if self._new_shape(args, kwargs) or type(reason) is NewSizes:
            self._stats["shape_traces"] += 1
            return self._retrace(args, kwargs, flat, f"{reason} (a new shape: {DYNAMIC})")
        if self._over_limit(reason):
            return self._eager(args, kwargs)
        return self._retrace(args, kwargs, flat, reason)

    def _renewed(self, guard, now):
        """A link the trace reached a container through holds another object: a loop that
        makes a new meter, log or stats dict per epoch (`meter = AverageMeter()`, d2l's
        `metric = Accumulator(3)`). The retrace is not counted by the recompile limit (as a new
        shape is not), unless the link changes on two calls in a row (a new object every call);
        and the numbers read per call in the old object (symbolic.py) are read per call in the
        new one from its first trace, so an epoch costs one trace, not two."""
        calls = self._stats["calls"]
        where = ("rebound", id(guard.container), guard.key)
        if self._changed.get(where) != calls - 1:
            self._uncounted += 1
        self._changed[where] = calls
        if self._no_symbolic:
            return
        # (every link of the last traces that holds a new object now: a loop makes its meters
        # together, `losses, top1 = AverageMeter(), AverageMeter()`, and one is reported)
        moved = {(id(guard.value), id(now)): (guard.value, now)} \
            if type(now) is type(guard.value) else {}
        for tr in self.traces[-4:]:
            for g in tr.py_guards:
                if type(g) is bindings.BindingGuard and not hasattr(g.value, "_data"):
                    cur = g.current()
                    if cur is not g.value and type(cur) is type(g.value):
                        moved[(id(g.value), id(cur))] = (g.value, cur)
        bindings.LAST_REBOUND[0] = None
        for where, (c, key, label, loc, kind) in list(self._symbolic.items()):
            for old, new_obj in moved.values():
                new = _counterpart(old, new_obj, c)
                if new is not None:     # (the old object's place is no longer read)
                    del self._symbolic[where]
                    self._symbolic[values.where_of(new, key)] = (new, key, label, loc, kind)
                    break

    def _new_shape(self, args, kwargs) -> bool:
        """Whether this call missed only because its tensor arguments have new sizes: a root
        was traced with the same arguments in every other respect, and none with these sizes."""
        if not config.dynamo.automatic_dynamic_shapes:
            return False
        flat, treedef = flat_args(args, kwargs)
        key = (GRAD.enabled, treedef, signature_of(flat), aliases_of(flat))
        guards = [root.arg_guard for root in self.roots if root.arg_guard is not None]
        return key not in guards and any(shapes_only(g, key) for g in guards)

    def _changes_every_call(self, where, why) -> bool:
        """A float read exactly (`print(loss.item())`: a new loss every call) that changed on
        two calls in a row (a bool or an int takes few values: those grow the tree): rather
        than a branch per value up to the recompile limit and then eager, the step is traced
        on every call from now on, its programs reused by structural hash. True when it
        switched."""
        calls = self._calls()    # (fast calls served in between count: a print every 100 calls
        if self._changed.get(where) != calls - 1:      # is not two calls in a row)
            self._changed[where] = calls
            return False
        self._go_per_call(why, probe=True)
        return True

    def _changes_when_reached(self, where, why, seg) -> bool:
        """A float read exactly that missed before, not on the previous call, and whose
        branches were never reused: Python reads a new value on some calls only (`if i % 10
        == 0: log.append(f"{loss.item():.3f}")`). Such a call runs eagerly, the tree serving
        the others, rather than a branch per value up to the recompile limit or the whole
        step traced per call, back and forth at every probe. (A value that came back, one of
        a few a float takes in turn, keeps growing the tree: a branch each.)"""
        if any(_uses(c) for level in seg.children.values() for c in level):
            return False
        seen = self._missed_floats.get(where, 0)
        self._missed_floats[where] = seen + 1
        if seen == 1:
            log_event(self, "per-call", reason=f"{why}: a float Python reads on some calls only;"
                      " the calls that read it run eagerly from now on")
        return seen > 0

    def _go_per_call(self, why, probe=False):
        """Run the step's Python on every call from now on; where what caused it may stop
        (printing, or reading a changing float, on the first epochs only), try the trace tree
        again after a while (_back_to_tree)."""
        self._probe = [why, self._probe_gap, self._stats["traces"]] if probe else None
        self._per_call = why
        self.mode = PER_CALL
        self._drop_fast()
        self.why_mode = why
        log_event(self, "per-call", reason=why)

    def _off_tree_call(self, args, kwargs):
        if self._probe is not None and self.mode is PER_CALL and self.why_mode == self._probe[0]:
            self._probe[1] -= 1
            if self._probe[1] <= 0:
                self._back_to_tree()
                return self._tree_call(args, kwargs)
        if self._per_call_eager and self.mode is PER_CALL:
            return self._run_eagerly(args, kwargs)
        if self.mode is EAGER or self._over_limit(self.why_mode):
            return self._eager(args, kwargs)
        flat, _ = flat_args(args, kwargs)
        return self._retrace(args, kwargs, flat, f"{PER_CALL}: {self.why_mode}")

    def _back_to_tree(self):
        """Leave a per-call mode that printing (or a changing float read into Python) caused,
        to see whether the step still does so on every call (`if epoch <= 3 or epoch % 500 ==
        0: print(...)` printed on three calls in a row, then rarely): its next call is traced
        again. A step that prints again at once returns to per-call mode, and its next probe
        waits twice as many calls, so probing costs one trace after 8, 16, 32, ... calls."""
        log_event(self, "tree", reason=f"probing after {self._probe_gap} calls: {self.why_mode}")
        # (the recompile limit counts the tree's traces, not those of the calls run per call)
        self._uncounted += self._stats["traces"] - self._probe[2]
        self.mode, self.why_mode, self._per_call, self._probe = TREE, None, None, None
        self._per_call_eager = False
        self._one_shot, self._one_shot_call, self._last_gap = None, -1, 1 << 62
        self._changed = {}
        self._probe_gap *= 2

    def _run_eagerly(self, args, kwargs, detach=True):
        """A per-call step cheaper run eagerly (per_call.py): the function itself, its results
        detached as a compiled call's are (a tensor it returns unchanged stays itself)."""
        self._stats["eager_calls"] += 1
        out = self.fn(*with_numbers(args), **with_numbers(kwargs))
        if not detach:
            return out
        leaves, treedef = flatten(out, lambda x: isinstance(x, Tensor))
        if not any(t._grad_fn is not None for t in leaves):
            return out
        return unflatten(treedef, [t if t._grad_fn is None else t.detach() for t in leaves])

    def _eager(self, args, kwargs):
        self._stats["fallbacks"] += 1
        return self.fn(*with_numbers(args), **with_numbers(kwargs))

    @property
    def limit(self):
        limit = config.dynamo.recompile_limit
        return limit if self.recompile_limit is None else self.recompile_limit

    def _over_limit(self, reason):
        # A step traced on every call because a value it reads changes on every call (a loop
        # counter) is limited by the traces that built programs: the others reused them.
        st = self._stats
        n = (st["compiles"] if self._volatile or self._per_call
             else st["traces"] - st["shape_traces"] - self._uncounted)
        if n < self.limit or self._nondeterministic:
            # A step that draws Python random numbers or reads a clock must run its Python on
            # every call; its traces reuse programs, so no limit guards against recompiling.
            return False
        if self.fullgraph:
            raise RuntimeError(
                f"stepjit: {self.name} reached its recompile limit ({self.limit}) and would now "
                f"run eagerly; last reason: {reason}. It was compiled with fullgraph=True, which "
                "refuses to run outside the compiler (stepjit.compile(..., recompile_limit=N) "
                "raises the limit)")
        if not self._limit_warned:
            self._limit_warned = True
            log_event(self, "fallback", reason=reason)
            warnings.warn(
                f"stepjit: {self.name} reached its recompile limit ({self.limit}); last reason: "
                f"{reason}. It now runs eagerly whenever its cached traces do not apply "
                "(stepjit.compile(..., recompile_limit=N) raises the limit)", UserWarning,
                stacklevel=user_stacklevel())
        if self.mode is PER_CALL:
            self.mode = EAGER
        return True

    # -- tracing and grafting --------------------------------------------------------------
    def _retrace(self, args, kwargs, flat, reason, verifying=False):
        with compiling(_short(self.name)):    # a progress line if this takes long
            return self._trace_and_run(args, kwargs, flat, reason, verifying)

    def _trace_and_run(self, args, kwargs, flat, reason, verifying):
        st = self._stats
        start = time.perf_counter()
        drawn = host_states()   # (a trace that stops part way may have drawn: put back)
        try:
            if self.check:   # check mode: custom Functions' backward against finite differences
                from ..programs.check import function_checks
                with function_checks():
                    tr = trace_fn(self.fn, args, kwargs, name=_short(self.name),
                                  symbolic=self._places())
            else:
                with span(f"trace {self.name}", "compile", reason=reason):
                    tr = trace_fn(self.fn, args, kwargs, name=_short(self.name),
                                  symbolic=self._places(), once=self.mode is not TREE)
        except EagerOnly as e:   # tracer.Untraceable, or the front end's own
            set_host_states(drawn)
            return self._untraceable(e, args, kwargs)
        except EagerFirst as e:    # (a lazy layer's first input): this call only, eagerly
            set_host_states(drawn)
            log_event(self, "fallback", reason=str(e))
            return self._eager(args, kwargs)
        except TypeError as e:
            if not self._symbolic:
                raise
            set_host_states(drawn)
            return self._specialize(e, args, kwargs)
        seconds = time.perf_counter() - start
        st["trace_seconds"] += seconds
        if tr.aot is not None:
            aot.prepare(tr.aot, self.program_backend, st)
        arg_key = (tr.grad_enabled, tr.arg_treedef, tr.arg_signature, tr.arg_aliases)
        built = st["programs_built"]
        compile_seconds = st["compile_seconds"]
        if verifying:
            st["verifications"] += 1
        calls = self.stats()["calls"]
        may_stop = tr.per_call is None and tr.per_call_if_again is not None
        if may_stop and self._one_shot_too_often(tr, calls):
            # (the previous call made the same kind of one-call trace: every call does; or a
            # small step does so every few calls, where running it eagerly costs less)
            tr.per_call, tr.per_call_warns = tr.per_call_if_again, tr.per_call_if_again_warns
        if tr.nondeterministic is not None and self.mode is TREE:
            self._went_nondeterministic(tr.nondeterministic)
        elif tr.per_call is not None and self.mode is TREE:
            self._go_per_call(tr.per_call, probe=may_stop)
            if tr.per_call_warns and tr.per_call not in self._warned:   # (once: after a probe
                self._warned.add(tr.per_call)                           # it may come again)
                warnings.warn(f"stepjit: {self.name}: {tr.per_call} (its compiled programs are "
                              "reused by structural hash)", UserWarning,
                              stacklevel=user_stacklevel())
        if self.mode is not TREE:
            outcome, roots = "per-call", []
            self._choose_per_call(tr)
        elif not tr.reusable:
            outcome, roots = "one-shot", []
        else:
            outcome, roots = None, self.roots
        path, status = graft(roots, tr, arg_key)
        if isinstance(status, Stale):
            self._went_stale(status, tr)
            outcome = "stale"
            path, _ = graft([], tr, arg_key)
        elif outcome is None:
            outcome = "verified" if status == "same" else "new"
        if outcome == "new":
            self.traces.append(tr)
            if len(self.roots) > config.dynamo.trace_cache_limit:
                self._evict(keep=path[0])
        if outcome in ("new", "stale") or (outcome == "verified" and path[-1].uses >= HOT_REUSE
                                           and self._promote(path)):
            self._drop_fast()
        if outcome != "verified":
            st["retraces"] += st["traces"] > 0
            st["traces"] += 1
        self._one_shot = (f"the previous trace described one call only ({tr.why_not_reusable})"
                          if outcome == "one-shot" else None)
        if outcome == "one-shot" and tr.per_call_if_again:
            self._one_shot_call = calls
            # (a call that printed, now and then: interpreted, it compiles nothing,
            # and the recompile limit would otherwise end retraces a loop still needs)
            self._uncounted += 1
        # A trace that describes one call only (state created on a first step) never runs
        # again: interpret it rather than compile kernels nothing will reuse.
        backend = "interpret" if outcome == "one-shot" else self.program_backend
        if outcome == "one-shot" and self.program_backend == "cpu" and _heavy(tr):
            # Unless interpreting it costs more than compiling it (NumPy temporaries over
            # millions of elements: an Adam first step over 10M parameters, state created):
            # then serial kernels, which a warm process loads from the disk cache.
            backend = ONCE
        if outcome == "per-call" and not self._recurs(tr):
            backend = "interpret"
        if outcome == "new" and backend == "cpu" and not config.first_call_compiles() \
                and not _heavy(tr):
            # A new trace's first call is interpreted (eager's values) and its programs are
            # built at its second call (its first reuse): a first call compiles nothing, so
            # it costs what an eager step costs, and a trace used once never compiles. (Not
            # where interpreting costs more than compiling: the programs are built now.)
            backend = "interpret"
        result = self._run_fresh(path, tr, flat, arg_key, backend,
                                 known=tr.values if outcome == "per-call" else None)
        tr.values = None
        n_built = st["programs_built"] - built
        if n_built:
            st["compiles"] += 1
        log_event(self, "trace", reason=reason, trace=tr, seconds=seconds, outcome=outcome,
                  programs_built=n_built, compile_seconds=st["compile_seconds"] - compile_seconds,
                  stale=str(status) if isinstance(status, Stale) else None)
        return result

    def _one_shot_too_often(self, tr, calls) -> bool:
        """Whether a step whose trace describes this call only (it printed, or changed a value
        on such a call) should run its Python on every call instead: when the previous call's trace
        did so too, or when a small step (one that would run eagerly per call, per_call.py) did
        so twice with fewer than config.dynamo.one_shot_gap calls between. A full trace costs
        20-70 ms in a process that has loaded Numba (the searches of the step's names, the heap
        scan for tensors it keeps, the fast call rebuilt), where a small step's replay saves
        about 0.4 ms over its eager call (benchmarks' epoch_loop: 476-588 us eager, 122 us
        replayed): the two break even at 50-150 calls. Plotting every 5 steps, eager is
        cheaper; printing every 2000, replaying the calls in between is."""
        gap = calls - self._one_shot_call
        if gap == 1:
            return True
        limit = config.dynamo.one_shot_gap
        short = gap < limit and self._last_gap < limit
        self._last_gap = gap
        return short and per_call.may_run_eagerly(tr, self.backend, self.fullgraph) \
            and per_call.runs_eagerly(tr.graph)

    def _choose_per_call(self, tr):
        """The first per-call trace decides how the step's Python runs from the next call on:
        traced, or eagerly when tracing costs more than its programs save (per_call.py)."""
        if self.mode is PER_CALL and not self._per_call_eager and per_call.may_run_eagerly(
                tr, self.backend, self.fullgraph) and per_call.runs_eagerly(tr.graph):
            self._per_call_eager = True
            log_event(self, "per-call", trace=tr, reason=f"{self.why_mode}; small ops: run "
                      "eagerly, where tracing every call would cost more than its programs save")

    def _recurs(self, tr) -> bool:
        """Whether a per-call trace's structure was met before. Only one that recurs is
        compiled (then reused by structural hash); a step whose graph never repeats (a long
        one-off step, a new loop count) is interpreted, as eager runs it, rather than paying a
        compile nothing reuses."""
        if self.program_backend == "interpret":
            return True
        key = structural_key(tr.graph)
        if key in self._per_call_seen:
            return True
        if len(self._per_call_seen) > 256:
            self._per_call_seen.clear()
        self._per_call_seen.add(key)
        return False

    def _run_fresh(self, path, tr, flat, arg_key, backend, known=None):
        """Run a trace just made along its path; its decisions must come out as traced.
        `known`: values a per-call trace computed already (it evaluated what the step's
        Python read, `loss.item()`: the forward), which its programs do not compute again."""
        if tr.named_first:
            with with_traced_names(tr):
                return self._run_traced(path, tr, flat, arg_key, backend, known)
        return self._run_traced(path, tr, flat, arg_key, backend, known)

    def _run_traced(self, path, tr, flat, arg_key, backend, known=None):
        st = self._stats
        objs, env = [], {}
        for i, seg in enumerate(path):
            guardcode.bind(seg, flat, objs, env)
            if known is not None:
                _take_known(seg, known, env)
            # (a segment keeps only a program of the function's own backend: an interpreted
            # first call leaves its tree segments without one, built on their next run)
            env = seg.run(env, backend, st, keep=backend == self.program_backend)
            if seg.decision is not None and seg.decision.key(env) != tr.decisions[i].seen:
                break   # the backend's rounding took the decision the other way
        else:
            leaf = path[-1].leaf
            guardcode.write_back(leaf, objs, env)
            return writeback.results(leaf, objs, env)
        objs = []
        for spec in tr.slots:
            objs.append(guardcode.resolve(spec.slot, flat, objs))
        env = writeback.interpret(tr, objs)
        guardcode.write_back(tr, objs, env)
        return writeback.results(tr, objs, env)

    def _evict(self, keep):
        """Drop the root used least since the previous eviction (the oldest among equals; not
        `keep`, the root just grown), its subtree and its traces. The fast calls are rebuilt;
        the calls they served are kept in the stats."""
        def recent(root):
            return _uses(root) - self._evict_marks.get(root, 0)
        victim = min((r for r in self.roots if r is not keep), key=recent)
        self.roots.remove(victim)
        dropped = _subtree(victim)
        gone = {id(seg.trace) for seg in dropped}
        self.traces = [tr for tr in self.traces if id(tr) not in gone]
        for seg in dropped:
            if seg in self._fast_segs:
                del self._fast_segs[seg]
                self._stats["calls"] += seg.uses - seg.tree_uses
        self._evict_marks = {r: _uses(r) for r in self.roots}
        self._stats["evictions"] += 1
        self._drop_fast()

    def _promote(self, path) -> bool:
        """A trace re-verified this late is hot: its small programs become one native function
        each (cpu.py says why not at once). True when one did."""
        start = time.perf_counter()
        promoted = any([seg.program is not None and seg.program.promote()
                        for seg in path])
        self._stats["compile_seconds"] += time.perf_counter() - start
        return promoted

    def _drop_fast(self):
        """The tree or its programs changed: calls take the tree walk, which rebuilds the fast
        calls when it next reaches a leaf."""
        self._fast, self._fast_sources, self._entry = (), [], None
        self._install()
        self._fast_stale = True

    def _build_fast(self):
        """Fast calls for the roots, in order, up to the first that takes a decision (a call
        those reject is left to the tree walk, which tries the roots in order): one function
        per run of roots with the same argument guard, checking the arguments once."""
        groups = []
        for root in self.roots:
            if root.leaf is None:
                break
            if groups and groups[-1][0].arg_guard == root.arg_guard:
                groups[-1].append(root)
            else:
                groups.append([root])
        groups = [fastcall.hottest_first(g) for g in groups]
        built = [fastcall.build(g, f"{_short(self.name)}_fast{k}", self.program_backend, self._stats)
                 for k, g in enumerate(groups)]
        self._fast = tuple(fn for fn, _, _ in built)
        self._entry = built[0][1] if built else None
        self._fast_segs.update(dict.fromkeys(seg for g in groups for seg in g))
        self._install()
        self._fast_sources = [src for _, _, src in built]
        self._fast_stale = False

    def _install(self):
        """Set what a call runs: the first fast call as this function's own __call__ (one frame
        for the whole call, fastcall.py), or the class's __call__ trying `_first`."""
        self._first = self._unprofiled_first()
        cls = type(self)
        fast = self._entry is not None and PROFILE.active is None
        cls.__call__ = self._entry if fast else cls.__bases__[0].__call__

    def _unprofiled_first(self):
        """What a call tries first: the first fast call, or, while a profile runs, the same
        inside a recorded event (_profiled_call)."""
        if PROFILE.active is not None:
            return self._profiled_call
        return self._fast[0] if self._fast else _no_fast_call

    def _profiled_call(self, args, kwargs):
        """One event per call. A fast call runs as it would unprofiled (guards, program,
        write-back in one generated function: one event); the tree walk, taken on a miss, records
        its phases (trace, pipeline stages, kernel compiles, each program run, write-back)."""
        with span(f"compiled call {self.name}", "compiled", line=user_line()):
            fast = self._fast[0] if self._fast else _no_fast_call
            out = timed("fast call (guards, program, write-back)", "compiled", fast, args, kwargs) \
                if self._fast else MISS
            if out.__class__ is Signal:
                return self._after_first(out, args, kwargs)
            return out

    def fast_sources(self) -> list:
        """The generated source of each root's fast call (fastcall.py)."""
        return list(self._fast_sources)

    def _went_stale(self, stale, tr):
        self._stats["stale"] += 1
        first = self.mode is TREE
        self.mode = PER_CALL
        self._drop_fast()
        self.why_mode = f"a cached trace went stale ({stale.cause})"
        if first:
            warnings.warn(
                f"stepjit: {self.name}: a cached trace went stale: {stale.cause}. The step reads "
                "Python state that changes between calls (a counter, a value kept in a Python "
                "variable), which a trace would replay; it is traced again on every call from now "
                "on (programs are still shared by structural hash)", UserWarning,
                stacklevel=user_stacklevel())

    def _untraceable(self, e, args, kwargs):
        """The trace met something only eager can run (tracer.Untraceable): this call and every
        later one run eagerly. The trace changed no tensor; Python it ran before the point it
        stopped runs again eagerly."""
        if self.fullgraph:
            raise RuntimeError(f"stepjit: {self.name} cannot be compiled: {e.why}") from None
        self.mode = EAGER
        self._drop_fast()
        self.why_mode = e.why
        log_event(self, "fallback", reason=e.why)
        warnings.warn(f"stepjit: {self.name} runs eagerly: {e.why}", UserWarning,
                      stacklevel=user_stacklevel())
        return self._eager(args, kwargs)

    def _specialize(self, error, args, kwargs):
        """A value traced symbolically reached code that needs the number itself, which a
        stand-in cannot give (NumPy's C API: `np.random.default_rng(seed)` with a SymbolicInt
        seed raises TypeError): from now on this function traces such values as guarded
        constants, and this call runs eagerly."""
        self._symbolic.clear()
        self._int_args.clear()
        self._no_symbolic = True
        log_event(self, "fallback", reason=f"a value read per call reached code that needs a "
                                           f"plain number ({error}): traced as a constant now")
        return self._eager(args, kwargs)

    def _went_volatile(self, guard):
        if values.where(guard) in self._symbolic and (self._one_shot is not None
                                                      or self._stale_value_guard(guard)):
            # (read symbolically already: the guard is a trace's made before that, or the
            # trace was for one call only: it printed)
            return
        kind = type(guard.value)
        if not self._no_symbolic and _liftable(guard) and values.where(guard) not in self._symbolic:
            # an int (a loop counter) or a float (a learning rate): traced symbolically from
            # now on (tracer/symbolic.py); a float becomes a per-call graph input
            self._symbolic[values.where(guard)] = (guard.container, guard.key, guard.label,
                                                   guard.loc, kind)
            log_event(self, "symbolic", reason=f"{guard.label} changes between calls")
            return
        self._volatile = guard
        self.mode = PER_CALL
        self._drop_fast()
        self.why_mode = f"{guard.label} changes between calls (read by the step at {guard.loc})"
        log_event(self, "per-call", reason=self.why_mode)

    def _stale_value_guard(self, guard) -> bool:
        """Whether guard, on a place read symbolically, is the value guard of a trace made
        before it was, which the walk tried first (walk.py): the latest trace serves the new
        value. (A symbolic number's exact reads are ConditionGuards; a value guard in the
        latest trace means the stand-in did not reach the place there: a changing value then
        needs a trace per call.)"""
        if type(guard) is not values.ValueGuard or not self.traces:
            return False
        where = values.where(guard)
        return not any(type(g) is values.ValueGuard and values.where(g) == where
                       for g in self.traces[-1].py_guards)

    def _read_int_args(self, args, kwargs):
        """(args, kwargs) with each int or float at a path read per call (_int_args_changed)
        put in self._arg_ints, where this call's guards and inputs read it, and an ArgNumber in
        its place (equal to any other of its kind: the argument structure no longer holds the
        value). A path: 0 and a position, or 1 and a keyword, then the indices and keys of the
        tuples, lists and dicts it is an item of."""
        call = [args, kwargs]
        for path in self._int_args:
            _put_number(call, path, path, self._arg_ints)
        return call[0], call[1]

    def _int_args_changed(self, args, kwargs) -> bool:
        """Whether the call missed on int or float arguments the last trace saw with other
        values (`step(x, i)` in a loop, `step(x, lr)` with a decaying lr, `step(x, lr=lr)`, a
        float in a tuple argument): from now on they are read per call, as SymbolicInts or
        SymbolicFloats (TorchDynamo makes an int or float input dynamic at its first
        recompile, wherever the argument structure holds it)."""
        if not self.traces or self.mode is not TREE or self._no_symbolic:
            return False
        old = self.traces[-1].arg_treedef
        changed = _changed_numbers(old, flat_args(args, kwargs)[1], ())
        names = _parameter_names(self.fn)
        for path, kind in changed:
            self._int_args.add(path)
            label = _argument_label(path, names)
            self._symbolic[(id(self._arg_ints), path)] = (self._arg_ints, path, label,
                                                          def_loc(self.fn), kind)
            log_event(self, "symbolic", reason=f"{label} changes between calls")
        return bool(changed)

    def _symbolic_since_last_trace(self):
        """Ints and floats the last trace read that this call finds changed, whatever made it
        miss first (a `.grad` now present, on a training step's second call): symbolic from
        now on, as at their first change (_liftable), so the retrace serves later values."""
        if not self.traces or self.mode is not TREE:
            return
        for g in self.traces[-1].py_guards:
            if _liftable(g) and values.where(g) not in self._symbolic and g.failed() is not None:
                self._went_volatile(g)
        values.LAST_FAILED[0] = None

    def _places(self):
        return [Place(*spec) for spec in self._symbolic.values()]

    def _went_nondeterministic(self, what):
        self._nondeterministic = what
        self.mode = PER_CALL
        self._drop_fast()
        self.why_mode = what.reason()
        warnings.warn(what.sentence(self.name), UserWarning, stacklevel=user_stacklevel())

    # -- reporting ----------------------------------------------------------------------------
    @property
    def programs(self) -> dict:
        """id(segment) -> (trace that made it, backend program) for every built segment program
        of the tree (a program shared from another graph is given unwrapped)."""
        out = {}
        stack = list(self.roots)
        while stack:
            seg = stack.pop()
            if seg.program is not None:
                out[id(seg)] = (seg.trace, seg.program.unwrapped())
            for children in seg.children.values():
                stack.extend(children)
        return out

    def stats(self) -> dict:
        """Counts for tests and `stepjit explain`: calls, traces (made to grow the cache or for
        one call), retraces, verifications (re-traces that checked a cached trace), stale,
        compiles (traces that built programs), programs_built / programs_reused (by structural
        hash), fallbacks (eager calls past the recompile limit or of an untraceable step),
        eager_calls (calls of a per-call step run eagerly because tracing it could not pay,
        per_call.py), decision_misses, cached_traces, segments, mode, and seconds spent tracing
        and compiling."""
        segments, leaves = _count(self.roots)
        return dict(self._stats, calls=self._calls(), cached_traces=leaves,
                    segments=segments, mode=self.mode)

    def _calls(self):
        """Calls so far, the fast calls' included (each counts on its segment)."""
        return self._stats["calls"] + sum(seg.uses - seg.tree_uses for seg in self._fast_segs)

    def __get__(self, obj, objtype=None):
        """Decorating a method compiles it per instance."""
        if obj is None:
            return self
        cache = self.__dict__.setdefault("_bound", weakref.WeakKeyDictionary())
        bound = cache.get(obj)
        if bound is None:
            bound = cache[obj] = CompiledFunction(self.fn.__get__(obj, objtype), self.backend,
                                                  self.name, self.recompile_limit, self.check,
                                                  self.fullgraph)
        return bound


def _take_known(seg, known, env):
    """A per-call path's segment (made for this call, never reused) keeps only the nodes whose
    values `known` lacks; the others' values go into env, where its program reads them as
    inputs. A step printing its loss computed its forward twice before: once for the print
    (the tracer's interpreter), once in the program. Only arrays that own their memory are
    taken: a view (a weight's transpose) could alias a buffer the program writes in place, so
    a view node stays in the program, which sees what it views."""
    rest = []
    for n in seg.nodes:
        a = known.get(n.out)
        if type(a) is np.ndarray and a.base is None:
            env[n.out] = a
        else:
            rest.append(n)
    seg.nodes = rest


def _reported(guard, reason) -> bool:
    """Whether reason (why the call left the tree) is guard's failure: the guard that failed
    last may belong to a root tried before the one whose failure is reported."""
    return reason.startswith(guard.label) or (
        type(guard) is ConditionGuard and reason.startswith(guard.describe()))


def _changed_numbers(old, new, path):
    """(path, type) of the int and float leaves of two treedefs of one structure whose values
    differ (a bool is not a number here: it takes two values, a trace each). The outermost
    tuple is the call's (args, kwargs): a path starts with 0 and a position or 1 and a name."""
    if old[0] != new[0]:
        return []
    kind = old[0]
    if kind == "leaf":
        a, b = old[1], new[1]
        number = type(a) is type(b) and type(a) in (int, float)
        return [(path, type(b))] if number and a != b else []
    if kind in ("tuple", "list") and len(old[1]) == len(new[1]):
        pairs = enumerate(zip(old[1], new[1]))
    elif kind == "dict" and old[1] == new[1]:
        pairs = zip(old[1], zip(old[2], new[2]))
    elif kind == "namedtuple" and old[1] is new[1]:
        pairs = enumerate(zip(old[2], new[2]))
    else:
        return []
    return [c for k, (a, b) in pairs for c in _changed_numbers(a, b, path + (k,))]


def _put_number(parent, rest, path, store):
    """parent[rest[0]]...[rest[-1]], when it is an int or float, stored in store[path] and
    replaced by an ArgNumber reading it there. The tuples, lists and dicts around it are
    copied, never changed: they are the caller's. parent: a list or a dict (a copy)."""
    k = rest[0]
    try:
        x = parent[k]
    except (IndexError, KeyError, TypeError):
        return
    if len(rest) == 1:
        if type(x) in (int, float):
            store[path] = x
            parent[k] = ArgNumber(store, path, type(x))
        return
    if type(x) is dict:
        inner = dict(x)
    elif type(x) in (tuple, list) or isinstance(x, tuple) and hasattr(x, "_fields"):
        inner = list(x)
    else:
        return
    _put_number(inner, rest[1:], path, store)
    if type(x) is tuple:
        inner = tuple(inner)
    elif hasattr(x, "_fields"):
        inner = type(x)(*inner)
    parent[k] = inner


def _argument_label(path, names):
    """`argument lr`, `argument betas[0]`: where a number read per call lives in the call."""
    k = path[1]
    name = (names[k] if k < len(names) else str(k)) if path[0] == 0 else k
    return f"argument {name}" + "".join(f"[{i!r}]" for i in path[2:])


def _parameter_names(fn):
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def _counterpart(old, new, target, depth=3):
    """The container in `new` at the place `target` has in `old` (old itself, its attribute
    dict, or an entry reached by the same keys, a few links deep), or None."""
    if target is old:
        return new
    d_old, d_new = getattr(old, "__dict__", None), getattr(new, "__dict__", None)
    if type(d_old) is dict and type(d_new) is dict:
        if target is d_old:
            return d_new
        old, new = d_old, d_new
    if depth == 0:
        return None
    if type(old) is dict and type(new) is dict:
        pairs = [(v, new[k]) for k, v in old.items() if k in new]
    elif type(old) is list and type(new) is list and len(old) == len(new):
        pairs = list(zip(old, new))
    else:
        return None
    for a, b in pairs:
        if type(a) is not type(b) or callable(a):
            continue
        if isinstance(a, (dict, list)) or type(getattr(a, "__dict__", None)) is dict:
            found = _counterpart(a, b, target, depth - 1)
            if found is not None:
                return found
    return None


def _now_an_object(guard) -> bool:
    """The number a value guard read is now a tensor or another object, not a number that
    changed: an accumulator reset to `0.` and then made a tensor by the step (fastai's
    `self.tot_mets = [0.] * n` each epoch): a trace for each, not a number read per call."""
    return type(guard) is values.ValueGuard and not isinstance(guard.current(), values._SCALARS)


def _liftable(guard) -> bool:
    """A value guard made symbolic at its first change: a float (a learning rate, an
    accumulator), or an int in a dict, a list or a cell (a loop variable: what a slice of the batch
    starts at, windows.py; a counter; torch.compile makes such an int dynamic at its first
    recompile). values.liftable holds the rule."""
    return type(guard) is values.ValueGuard and values.liftable(guard.container, guard.key,
                                                                 guard.value)


def _subtree(root):
    out, stack = [], [root]
    while stack:
        seg = stack.pop()
        out.append(seg)
        for children in seg.children.values():
            stack.extend(children)
    return out


def _uses(root):
    """The calls that reached a leaf under root (a fast call counts on its segment)."""
    return sum(seg.uses for seg in _subtree(root) if seg.leaf is not None)


def _count(level):
    segments = leaves = 0
    stack = list(level)
    while stack:
        seg = stack.pop()
        segments += 1
        leaves += seg.leaf is not None
        for children in seg.children.values():
            stack.extend(children)
    return segments, leaves


def _short(name):
    return name.split(".")[-1].replace("<", "").replace(">", "") or "step"


# PyTorch's backend names: "inductor" (its default) generates native code, as "cpu" does; its
# debugging backends run the captured graph without generating code, as "interpret" does.
TORCH_BACKENDS = {"inductor": "cpu", "eager": "interpret", "aot_eager": "interpret",
                  "aot_eager_decomp_partition": "interpret"}
TORCH_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(fn=None, *, backend="cpu", recompile_limit=None, check=None, fullgraph=False,
            dynamic=None, mode=None, options=None, disable=False):
    """Compile a training step (function, method or nn.Module); usable bare or called.

    check=True (or STEPJIT_CHECK=1 in the environment when compiling) runs the IR interpreter
    beside the compiled program and raises stepjit.CheckError at the first value that differs
    (docs/checking.md).

    torch.compile's arguments are accepted (docs/compiler.md, "torch.compile's arguments"):
    backend "inductor" is "cpu" and "eager"/"aot_eager" are "interpret"; fullgraph=True makes
    a function that would fall back to eager raise instead; disable=True returns fn itself;
    dynamic, mode and options change nothing (kernels are shape-generic, and hot steps become
    native programs whatever the mode)."""
    _check_torch_arguments(mode, options)
    backend = TORCH_BACKENDS.get(backend, backend) if isinstance(backend, str) else backend
    if not isinstance(backend, str):
        raise ValueError(f"stepjit.compile: backend must be one of {', '.join(BACKENDS)} (or "
                         f"PyTorch's {', '.join(TORCH_BACKENDS)}); custom backend functions are "
                         "not supported")
    if fn is None:
        return lambda f: compile(f, backend=backend, recompile_limit=recompile_limit, check=check,
                                 fullgraph=fullgraph, dynamic=dynamic, mode=mode, options=options,
                                 disable=disable)
    if disable:
        return fn
    if hasattr(fn, "forward") and hasattr(fn, "named_parameters") and not isinstance(fn, type):
        return CompiledModule(fn, backend, recompile_limit=recompile_limit, check=check,
                              fullgraph=fullgraph)
    return CompiledFunction(fn, backend, recompile_limit=recompile_limit, check=check,
                            fullgraph=fullgraph)


def _check_torch_arguments(mode, options):
    if mode not in TORCH_MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           + ", ".join(m for m in TORCH_MODES if m))
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")


class CompiledModule(CompiledFunction):
    """`torch.compile(model)`: calls run the compiled forward; every other attribute
    (`parameters()`, `train()`, `eval()`, `state_dict()`, user methods) is the module's, which
    `_orig_mod` names as in PyTorch (whose state_dict keys gain an `_orig_mod.` prefix; here they
    are the module's own)."""
    _trace_search = ("_orig_mod",)

    def __init__(self, module, backend="cpu", recompile_limit=None, check=None, fullgraph=False):
        super().__init__(module.__call__, backend, name=type(module).__name__,
                         recompile_limit=recompile_limit, check=check, fullgraph=fullgraph)
        self._orig_mod = module

    def __getattr__(self, name):   # only for names the compiled function does not have
        if name == "_orig_mod":
            raise AttributeError(name)
        value = getattr(self._orig_mod, name)
        if not callable(value) or not hasattr(value, "__self__"):
            return value
        module = self._orig_mod

        def method(*args, **kwargs):   # `model.to(dev)`, `.train()`: the compiled model back
            out = value(*args, **kwargs)
            return self if out is module else out
        return method

    def __repr__(self):
        return f"OptimizedModule({self._orig_mod!r})"


_ALL = weakref.WeakSet()   # every compiled function, for reset()


def reset():
    """`torch.compiler.reset()` / `torch._dynamo.reset()`: forget every trace and program; the
    next call of each compiled function traces again (kernels stay in the on-disk cache)."""
    for f in list(_ALL):
        f.forget()
    clear_programs()


def check_enabled(check):
    if check is None and not config.check():
        return False
    from ..programs.check import enabled
    return enabled(check)


def program_backend(backend, check):
    if not check:
        return backend
    from ..programs.check import program_backend as checked   # registers the "check:" backends
    return checked(backend, check)
