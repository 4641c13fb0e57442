"""`stepjit.profiler`: where a step's time goes, shaped like `torch.profiler`.

    with stepjit.profiler.profile() as prof:
        with stepjit.profiler.record_function("train step"):
            step(x, y)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")     # open in Perfetto or chrome://tracing

What is recorded, each as one timed event with its arguments:
- `record_function` ranges (category "user");
- eager ops (category "op": the primitive, its input shapes and dtypes, the user's line), timed
  around the whole dispatch (impl, result, autograd record);
- autograd backward nodes (category "autograd": `MmBackward0`, `AccumulateGrad`, ...); while a
  profile is on, backward runs through the engine node by node instead of the generated
  whole-tape function, so each node has its own event;
- compiled steps (category "compiled"): each call, and inside it the phases: guard check and
  tree walk, trace, every pipeline stage, Numba compiles of kernels, every program run (its
  kernel names and IR values), write-back.

Off, it costs the hot paths one test of `STATE.active` (dispatch.apply's eager path, the
backward entry); compiled calls are untouched until a profile starts (their fast calls are set
aside while one runs, so each call takes the instrumented tree walk).

Events nest by time on one thread: an event's self time is its duration less its direct
children's. The Chrome trace is the Trace Event Format's JSON object form: complete events
("ph": "X") with microsecond timestamps.
"""
from __future__ import annotations

import gzip
import json
import os
import socket
import sys
import threading
import time
import warnings
from collections import defaultdict

_NOW = time.perf_counter_ns


class _State:
    __slots__ = ("active",)

    def __init__(self):
        self.active = None     # the running profile, or None


STATE = _State()
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class ProfilerActivity:
    CPU = "cpu"
    CUDA = "cuda"


class Event:
    __slots__ = ("name", "cat", "start", "dur", "tid", "args", "self_time")

    def __init__(self, name, cat, start, dur, tid, args):
        self.name, self.cat, self.start, self.dur, self.tid, self.args = \
            name, cat, start, dur, tid, args
        self.self_time = dur

    @property
    def end(self):
        return self.start + self.dur


class ProfilerAction:
    """What a schedule asks of the profiler at a step (torch.profiler.ProfilerAction)."""
    NONE = "NONE"
    WARMUP = "WARMUP"
    RECORD = "RECORD"
    RECORD_AND_SAVE = "RECORD_AND_SAVE"


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """PyTorch's cycle of steps: after `skip_first` steps, repeat `wait` idle steps, `warmup`
    steps run but not kept, and `active` recorded steps, the last of which hands the cycle's
    events to `on_trace_ready`; `repeat` cycles (0: until the profile ends).
    `skip_first_wait` drops the first cycle's wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def action(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step = step - skip_first + (wait if skip_first_wait else 0)
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _always_record(step):
    return ProfilerAction.RECORD


_KEEPS = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An `on_trace_ready` that writes each finished cycle as a Chrome trace into dir_name,
    named as PyTorch names them (`{worker}.{time_ns}.pt.trace.json`, `.gz` when asked)."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as g:
                g.write(f.read())
            os.remove(path)
    return handler


class profile:
    """A profiling session (context manager). As in PyTorch, eager ops record their input
    shapes and dtypes with record_shapes=True and the user's line with with_stack=True (both
    cost time per op); the other arguments PyTorch takes are accepted. With a `schedule`,
    `prof.step()` moves through its cycle: events are kept only in recorded steps, and the
    last of each cycle hands them to `on_trace_ready` (the next cycle starts empty); without
    one, every step records and `on_trace_ready` runs when the profile stops."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, use_cuda=None):
        self.events = []
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.on_trace_ready = on_trace_ready
        self.schedule = schedule or _always_record
        self.step_num = 0
        self._action = ProfilerAction.NONE
        self._t0 = None
        self._previous = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._previous = STATE.active
        self._t0 = _NOW()
        self._enter(self.schedule(self.step_num))
        return self

    def stop(self):
        finished = self._action in _KEEPS
        self._enter(ProfilerAction.NONE)
        _self_times(self.events)
        if finished and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self):
        """The end of a training step: the schedule's next action (a cycle's last recorded
        step hands its events to on_trace_ready)."""
        self.add("ProfilerStep", "user", _NOW(), 0)
        saving = self._action == ProfilerAction.RECORD_AND_SAVE
        self.step_num += 1
        if saving:
            self._enter(ProfilerAction.NONE)
            _self_times(self.events)
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        self._enter(self.schedule(self.step_num))

    def _enter(self, action):
        """Record (this profile active) in RECORD and RECORD_AND_SAVE steps only; a cycle
        starting from idle starts with no events."""
        was, self._action = self._action, action
        if (was in _KEEPS) == (action in _KEEPS):
            return
        if action in _KEEPS:
            self.events = []
            STATE.active = self
        else:
            STATE.active = self._previous
        if STATE.active is not None and action not in _KEEPS:
            return      # (an enclosing profile still records)
        for hook in _ON_START:
            hook(action in _KEEPS)

    def add(self, name, cat, start, dur, **args):
        if self._action not in _KEEPS:
            return
        self.events.append(Event(name, cat, start, dur, threading.get_ident(), args))

    # -- reading it ---------------------------------------------------------------------------
    def key_averages(self, group_by_input_shape=False):
        return EventList(self.events, group_by_input_shape)

    def total_time_us(self, cat=None, name=None) -> float:
        return sum(e.dur for e in self.events
                   if (cat is None or e.cat == cat) and (name is None or e.name == name)) / 1e3

    def export_chrome_trace(self, path):
        pid = os.getpid()
        t0 = self._t0 or 0
        trace = {"traceEvents": [
            {"name": e.name, "cat": e.cat, "ph": "X", "ts": (e.start - t0) / 1e3,
             "dur": e.dur / 1e3, "pid": pid, "tid": e.tid,
             "args": {k: _jsonable(v) for k, v in e.args.items()}}
            for e in sorted(self.events, key=lambda e: e.start)],
            "displayTimeUnit": "ms",
            "otherData": {"producer": "stepjit.profiler"}}
        trace["traceEvents"].insert(0, {"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                                        "args": {"name": "stepjit"}})
        with open(path, "w") as f:
            json.dump(trace, f)
        return path


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)


def _self_times(events):
    """Each event's duration less its direct children's (nesting by time, per thread)."""
    by_thread = defaultdict(list)
    for e in events:
        e.self_time = e.dur
        by_thread[e.tid].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e.start, -e.dur))
        stack = []
        for e in evs:
            while stack and stack[-1].end <= e.start:
                stack.pop()
            if stack and e.end <= stack[-1].end:
                stack[-1].self_time -= e.dur
            stack.append(e)


class FunctionEventAvg:
    __slots__ = ("key", "cat", "count", "cpu_time_total", "self_cpu_time_total", "input_shapes")

    def __init__(self, key, cat, input_shapes):
        self.key, self.cat, self.input_shapes = key, cat, input_shapes
        self.count = 0
        self.cpu_time_total = 0.0        # microseconds, as PyTorch's
        self.self_cpu_time_total = 0.0

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)


class EventList(list):
    """key_averages(): one row per event name (and input shapes, when grouped by them)."""

    def __init__(self, events, group_by_input_shape=False):
        rows = {}
        for e in events:
            shapes = e.args.get("shapes") if group_by_input_shape else None
            key = (e.name, str(shapes))
            row = rows.get(key)
            if row is None:
                row = rows[key] = FunctionEventAvg(e.name, e.cat, shapes)
            row.count += 1
            row.cpu_time_total += e.dur / 1e3
            row.self_cpu_time_total += e.self_time / 1e3
        super().__init__(rows.values())

    def table(self, sort_by="cpu_time_total", row_limit=100, **_):
        key = sort_by
        if key not in ("cpu_time_total", "self_cpu_time_total", "count", "cpu_time"):
            raise ValueError(f"sort_by={sort_by!r}: use cpu_time_total, self_cpu_time_total, "
                             "cpu_time or count")
        rows = sorted(self, key=lambda r: getattr(r, key), reverse=True)[:row_limit]
        total = sum(r.self_cpu_time_total for r in self) or 1.0
        width = max([len("Name")] + [len(r.key) for r in rows])
        head = (f"{'Name':<{width}}  {'Category':<9} {'Self CPU %':>10} {'Self CPU':>11} "
                f"{'CPU total':>11} {'CPU avg':>10} {'# Calls':>8}")
        lines = [head, "-" * len(head)]
        for r in rows:
            lines.append(f"{r.key:<{width}}  {r.cat:<9} "
                         f"{100 * r.self_cpu_time_total / total:>9.2f}% "
                         f"{_fmt_us(r.self_cpu_time_total):>11} {_fmt_us(r.cpu_time_total):>11} "
                         f"{_fmt_us(r.cpu_time):>10} {r.count:>8}")
        lines.append("-" * len(head))
        lines.append(f"Self CPU time total: {_fmt_us(total)}")
        return "\n".join(lines)


def _fmt_us(us):
    return f"{us / 1e3:.3f}ms" if us >= 1000 else f"{us:.3f}us"


# -- recording ------------------------------------------------------------------------------
class record_function:
    """A named range (context manager or decorator), as torch.profiler.record_function."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._start = None

    def __enter__(self):
        self._start = _NOW()
        return self

    def __exit__(self, *exc):
        prof = STATE.active
        if prof is not None and self._start is not None:
            prof.add(self.name, "user", self._start, _NOW() - self._start)
        return False

    def __call__(self, fn):
        def wrapped(*a, **k):
            with record_function(self.name):
                return fn(*a, **k)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        return wrapped


class span:
    """A timed range the library records around a phase (does nothing without a profile)."""
    __slots__ = ("name", "cat", "args", "_start")

    def __init__(self, name, cat="compiled", **args):
        self.name, self.cat, self.args = name, cat, args
        self._start = None

    def __enter__(self):
        if STATE.active is not None:
            self._start = _NOW()
        return self

    def __exit__(self, *exc):
        prof = STATE.active
        if prof is not None and self._start is not None:
            prof.add(self.name, self.cat, self._start, _NOW() - self._start, **self.args)
        return False


def timed(name, cat, fn, *a, **args):
    """fn(*a), recorded as one event when a profile is on."""
    prof = STATE.active
    start = _NOW()
    try:
        return fn(*a)
    finally:
        if prof is not None:
            prof.add(name, cat, start, _NOW() - start, **args)


def user_line() -> str:
    """file:line of the innermost frame outside stepjit (the user's line)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f = f.f_back
    if f is None:
        return "?"
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"


# Hooks run with True when the first profile starts and False when the last stops (the
# runtime sets compiled functions' fast calls aside with one).
_ON_START = []


def on_start(hook):
    _ON_START.append(hook)
    return hook
