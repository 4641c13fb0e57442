"""What the runtime tells a user: STEPJIT_LOGS=ir,guards,recompiles prints as it happens;
every event is also kept on the compiled function for `stepjit dump` / `explain`."""
from __future__ import annotations

import sys

from .. import config

_LISTENERS = []


def enabled(topic: str) -> bool:
    return config.logs(topic)


def add_listener(fn):
    _LISTENERS.append(fn)
    return fn


def remove_listener(fn):
    if fn in _LISTENERS:
        _LISTENERS.remove(fn)


_KEEP = 256     # events kept on a compiled function (the first, then the latest)


def log_event(compiled, kind, **info):
    event = dict(kind=kind, function=compiled.name, **info)
    compiled.events.append(event)
    if len(compiled.events) > _KEEP:
        del compiled.events[1:_KEEP // 2]   # a function retraced per call must not grow forever
    for fn in list(_LISTENERS):
        fn(compiled, event)
    tr = info.get("trace")
    if kind == "fallback" and enabled("recompiles"):
        print(f"[stepjit] {compiled.name}: recompile limit reached; runs eagerly on a miss "
              f"(last reason: {info['reason']})", file=sys.stderr)
    if kind == "trace":
        if enabled("recompiles"):
            outcome = info.get("outcome", "new")
            print(f"[stepjit] trace of {compiled.name} ({outcome}): {info['reason']}"
                  f" ({info['seconds'] * 1000:.1f} ms tracing, {info.get('programs_built', 0)} programs"
                  f" built in {info.get('compile_seconds', 0.0) * 1000:.1f} ms)"
                  + ("" if tr.reusable else f"; not reusable: {tr.why_not_reusable}")
                  + (f"; STALE: {info['stale']}" if info.get("stale") else ""), file=sys.stderr)
        if enabled("guards"):
            from .guards import describe_guards
            print(describe_guards(tr), file=sys.stderr)
        if enabled("ir"):
            print(str(tr.graph), file=sys.stderr)
