"""What the runtime tells a user: STEPJIT_LOGS=ir,guards,recompiles prints as it happens;
every event is also kept on the compiled function for `stepjit dump` / `explain`."""
from __future__ import annotations

import os
import sys

_LISTENERS = []


def enabled(topic: str) -> bool:
    return topic in os.environ.get("STEPJIT_LOGS", "").replace(" ", "").split(",")


def add_listener(fn):
    _LISTENERS.append(fn)
    return fn


def remove_listener(fn):
    if fn in _LISTENERS:
        _LISTENERS.remove(fn)


def log_event(compiled, kind, **info):
    event = dict(kind=kind, function=compiled.name, **info)
    compiled.events.append(event)
    for fn in list(_LISTENERS):
        fn(compiled, event)
    tr = info.get("trace")
    if kind == "trace":
        if enabled("recompiles"):
            print(f"[stepjit] trace #{len(compiled.events)} of {compiled.name}: {info['reason']}"
                  f" ({info['seconds'] * 1000:.1f} ms)"
                  + ("" if tr.reusable else f"; not reusable: {tr.why_not_reusable}"), file=sys.stderr)
        if enabled("guards"):
            from .explain import describe_guards
            print(describe_guards(tr), file=sys.stderr)
        if enabled("ir"):
            print(str(tr.graph), file=sys.stderr)
