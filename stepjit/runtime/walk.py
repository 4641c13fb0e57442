"""A call's walk down a trace tree (tree.py) to the leaf whose guards and decisions it meets.

A level of the tree holds sibling segments; a call enters the first whose guards pass, runs
its program and follows the child list of its decision's outcome. Guards do not all sit in a
trace's first segment: a value guard on a Python number is checked by the leaf, while a
condition on a number read per call (`it % 5 == 0` on a symbolic loop counter) is checked where
it was read. So two traces can both admit a call at the root and part further down: the trace
made before the counter became symbolic (root: no guard on it; leaf: `it == 1`) and the one
made after (root: `(it % 5 == 0) is False`). A walk that committed to the first root that
admits the call would meet `it == 1` at the end of the older trace on every later call and
miss, although the newer trace holds for it. So the walk backtracks: a dead end (no sibling
admits the call, or the decision's outcome has no child) resumes at the next untried sibling
above it, depth first. Segment programs change nothing outside their environment (write-back,
random state included, is the leaf's, after the walk), so running a segment on a path that
turns out to be dead costs time, never a result. Except NumPy's global stream: a segment whose
trace drew from it (tracer/draws.py) draws when entered, so the walk keeps NumPy's state from
before each such segment on its path, and puts it back when it resumes above one (and, on a
dead end, as the call found it: the step's Python, run next, draws those numbers itself).

Where no leaf admits the call, the walk reports its *first* dead end, the one a committed walk
would have stopped at: the failure the runtime explains and reacts to (a guard that failed,
values.LAST_FAILED and bindings.LAST_REBOUND as that dead end left them, or the decision whose
outcome was new).
"""
from __future__ import annotations

from ..tracer import bindings, values
from ..tracer.draws import rng_state, set_rng_state


class DeadEnd:
    """Where a walk first found no way on: `why` (a str, or tree.NewSizes), and for a decision
    whose outcome has no child, the segment it ends (`seg`, its `decision`) and `outcome`."""

    def __init__(self, why, seg=None, outcome=None):
        self.why, self.seg, self.outcome = why, seg, outcome
        self.failed = values.LAST_FAILED[0]
        self.rebound = bindings.LAST_REBOUND[0]

    def restore(self):
        """Put back the guard failures this dead end left, for the runtime's miss handling."""
        values.LAST_FAILED[0] = self.failed
        bindings.LAST_REBOUND[0] = self.rebound


def walk(roots, key, flat, backend, stats, why):
    """(leaf, objs, env, drawn) for the call (the leaf entered, not run; drawn: NumPy's state
    before the path's first draw, or None), or the first DeadEnd. `why` is the reason given
    when no segment says more (an empty tree: the first call)."""
    objs, env = [], {}
    saved = []     # NumPy's state before each segment on the path that drew (module docstring)
    pending = [(roots, 0, 0, env, 0)]     # (level, first untried sibling, objs held, env, saved)
    first = None
    while pending:
        level, start, held, env, drew = pending.pop()
        del objs[held:]
        if len(saved) > drew:    # a dead path drew: the stream as it was here
            set_rng_state(saved[drew])
            del saved[drew:]
        for i in range(start, len(level)):
            seg = level[i]
            before = len(saved)
            if seg.draws:
                saved.append(rng_state())
            failure = seg.enter(key, flat, objs, env)
            if failure is None:
                break
            del saved[before:]    # (its guards failed before it drew)
            why = failure
        else:
            first = first or DeadEnd(why)
            continue
        if seg.leaf is not None:
            return seg, objs, env, saved[0] if saved else None
        pending.append((level, i + 1, held, env, before))
        env = seg.run(env, backend, stats)
        outcome = seg.decision.key(env)
        children = seg.children.get(outcome)
        if children:
            pending.append((children, 0, len(objs), env, len(saved)))
        elif first is None:
            d = seg.decision
            first = DeadEnd(f"the decision at {d.where()} went another way: {d.describe(outcome)}",
                            seg, outcome)
    if saved:
        set_rng_state(saved[0])
    first.restore()
    return first
