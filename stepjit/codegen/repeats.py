"""Repeated runs of a native program's groups, emitted as one function called per repetition.

An unrolled RNN computes the same cell for every timestep, forward and backward, and a stack
of layers the same block per layer: the program's body repeats the same lines, naming other
values and buffers each time. Numba's type inference and lowering, and LLVM after them, cost
in proportion to the length of the one function they compile (W6, a tanh cell unrolled 16
steps: ~12 s of CPU for a 430-line program), so a run of k repetitions of p groups whose lines
are equal up to the names they read and bind is emitted as one function, `repeat<j>`, holding
the first repetition's lines, and k calls of it, each passing its repetition's names. The
program then grows by one call per repetition, not by its lines.

Two repetitions match when their lines are the same text once every name (`v12`, `w3`, `i0`,
`h0`, `_c`) is replaced by the order of its first appearance in the repetition, and every
integer index into a name (`i0[3]`: the timestep's slice of a stacked input) by a parameter;
so the same name read twice in one repetition is one name in every other. Of a repetition's
names, those it binds are locals of the function; the others are its parameters, named as in
the first repetition (generated source keeps naming IR values), followed by the integer
indices (`at0, ...`, passed as `np.int64(k)`: a literal would make Numba compile the function
once per index). The body's names are views and aliases of the program's buffers (the
function writes its results into buffers it is given, through loop kernels, BLAS and the
index helpers), so a name a repetition binds and a later line reads (the hidden state the next
step reads, the activations the backward pass reads) is bound again in the program after that
repetition's call, by its own line, which only names a buffer or views one; where it names a
buffer, later lines read the buffer instead (`w3` for the step's `v4 = w3`: a line less for
Numba, per step). A run whose needed line does anything else (allocates, copies) is not
outlined. Lines that branch or
return (index checks) and per-call allocations (values returned to the caller) are never
part of a run.

Numba compiles each such function once per argument signature (the repetitions' arrays have
the same types), as a separate LLVM function the program calls: LLVM does not inline a body of
that many calls.
"""
from __future__ import annotations

import re

MAX_PERIOD = 64                 # groups in one repetition, at most
# A name the program body binds or reads, and an integer index into it (`i0[3]`)
_TOKEN = re.compile(r"\b([vwhi]\d+|_c)\b(?:\[(\d+)\])?")
_BINDS = re.compile(r"(?:^|; )([vwhi]\d+|_c) = ")
# A line that only names a buffer or a view of one: bound again after a call at no cost
_VIEW_LINE = re.compile(r"^[vwhi]\d+ = (?:[vwhi]\d+(?:\.T|\[[^\]\[]*\])?|broadcast_view\(.*\))$")
# ... or a reshape, which copies a value that is not contiguous (so is not bound again)
_NAMING_LINE = re.compile(r"^[vwhi]\d+ = reshaped\(.*\)$")
_ALIAS = re.compile(r"^(v\d+) = ([vwhi]\d+)$")      # a value that is a buffer (or another value)


def outline(units, function_name="repeat"):
    """(lines, functions): the program body `units` (each group's lines, in order) with its
    repeated runs replaced by calls, and the text of each function called (undecorated).
    Units that repeat nowhere are kept as they are."""
    shapes = [_unit_shape(u) for u in units]
    runs = _choose(units, shapes)
    last_use = _last_uses(units)
    lines, functions = [], []
    same = {}       # a name a repetition bound to a buffer -> that buffer, read in its place

    def emit(new, rebound=False):
        for line in new:
            alias = _ALIAS.match(line) if rebound else None
            if alias is None:
                lines.append(_TOKEN.sub(lambda m: same.get(m.group(1), m.group(1))
                                        + m.group(0)[len(m.group(1)):], line))
            else:
                same[alias.group(1)] = same.get(alias.group(2), alias.group(2))
    i = 0
    for start, period, reps in runs:
        for u in units[i:start]:
            emit(u)
        made = _outlined(units, start, period, reps, last_use, f"{function_name}{len(functions)}")
        if made is None:
            for u in units[start:start + period * reps]:
                emit(u)
        else:
            functions.append(made[0])
            emit(made[1], rebound=True)
        i = start + period * reps
    for u in units[i:]:
        emit(u)
    return lines, functions


def _eligible(unit):
    return all(not line.startswith(("if ", " ")) and "return" not in line
               and "empty_array(" not in line for line in unit)     # a per-call allocation


def _shape(lines):
    """(template, names, indices): the lines with each name replaced by the order of its first
    appearance and each integer index into a name by `#`; the names in that order; the
    indices in order of appearance."""
    names, indices = {}, []

    def token(m):
        k = names.setdefault(m.group(1), len(names))
        if m.group(2) is None:
            return f"@{k}"
        indices.append(int(m.group(2)))
        return f"@{k}[#]"
    template = "\n".join(_TOKEN.sub(token, line) for line in lines)
    return template, list(names), indices


def _unit_shape(unit):
    return _shape(unit)[0] if _eligible(unit) else None


def _window(units, start, period):
    return [line for u in units[start:start + period] for line in u]


def _choose(units, shapes):
    """Non-overlapping runs (start, period, repetitions), in order: for every start the run of
    most groups (fewest groups per repetition among equals), then the longest runs first."""
    n = len(units)
    best = []
    works = [_works(u) for u in units]
    for start in range(n):
        if shapes[start] is None:
            continue
        found = (start, 0, 0)
        candidates = [(p, _repetitions(shapes, start, p))
                      for p in range(1, min(MAX_PERIOD, (n - start) // 2) + 1)
                      if any(works[start:start + p])]
        for period, reps in sorted(candidates, key=lambda c: (-c[0] * c[1], c[0])):
            if period * reps <= found[1] * found[2]:
                break
            if reps < 2:
                continue
            reps = _same_names(units, start, period, reps)
            if reps >= 2 and period * reps > found[1] * found[2]:
                found = (start, period, reps)
        if found[2]:
            best.append(found)
    best.sort(key=lambda r: (-r[1] * r[2], r[0]))
    taken, runs = set(), []
    for start, period, reps in best:
        span = range(start, start + period * reps)
        if not taken.intersection(span):
            taken.update(span)
            runs.append((start, period, reps))
    return sorted(runs)


def _repetitions(shapes, start, period):
    """How many times the `period` groups from `start` repeat back to back, by each group's own
    shape (a run starts with a group that does work: see _choose)."""
    first = shapes[start:start + period]
    if None in first:
        return 0
    reps = 1
    while start + (reps + 1) * period <= len(shapes) and \
            shapes[start + reps * period:start + (reps + 1) * period] == first:
        reps += 1
    return reps


def _same_names(units, start, period, reps):
    """How many of those repetitions also match as a whole: the same name read in the same
    places (the groups' shapes number names per group)."""
    template = _shape(_window(units, start, period))[0]
    for r in range(1, reps):
        if _shape(_window(units, start + r * period, period))[0] != template:
            return r
    return reps


def _works(unit):
    """Does the group do work (a call or a store), beyond naming a buffer or a view of one? A
    repetition holds one (a run of views alone would only move them into calls)."""
    return any(not (_VIEW_LINE.match(line) or _NAMING_LINE.match(line)) for line in unit)


def _last_uses(units):
    """{name: the index of the last group that reads or binds it} (`_c`, a concatenation's
    running offset, lives within its line)."""
    last = {}
    for k, u in enumerate(units):
        for line in u:
            for m in _TOKEN.finditer(line):
                last[m.group(1)] = k
    last.pop("_c", None)
    return last


def _outlined(units, start, period, reps, last_use, fname):
    """(function text, the program's lines for the run), or None where a name a repetition
    binds is read later but its line cannot be run again after the call."""
    first = _window(units, start, period)
    _, names0, indices0 = _shape(first)
    bound = {m for line in first for m in _BINDS.findall(line)}
    params = [k for k, name in enumerate(names0) if name not in bound]
    head = [names0[k] for k in params] + [f"at{j}" for j in range(len(indices0))]
    if "dims" in "\n".join(first):
        head.append("dims")
    calls = []
    for r in range(reps):
        window = _window(units, start + r * period, period)
        _, names, indices = _shape(window)
        args = [names[k] for k in params] + [f"np.int64({x})" for x in indices]
        if "dims" in head:
            args.append("dims")
        calls.append(f"{fname}({', '.join(args)})")
        later = start + (r + 1) * period
        again = _bound_again(window, {names[k] for k in range(len(names)) if names0[k] in bound
                                      and last_use.get(names[k], -1) >= later})
        if again is None:
            return None
        calls += again
    count = iter(range(len(indices0)))
    body = [_TOKEN.sub(lambda m: m.group(0) if m.group(2) is None
                       else f"{m.group(1)}[at{next(count)}]", line) for line in first]
    text = (f"def {fname}({', '.join(head)}):\n"
            f"    # one of {reps} repetitions of these {period} groups (the first's names)\n"
            + "".join(f"    {line}\n" for line in body))
    return text, calls


def _bound_again(window, needed):
    """The window's lines that bind `needed` names and the names those lines read, in order;
    None if one of them does more than name a buffer or a view of one."""
    binder = {}
    for line in window:
        for name in _BINDS.findall(line):
            binder[name] = line
    todo, keep = list(needed), set()
    while todo:
        name = todo.pop()
        line = binder[name]
        if line in keep:
            continue
        if not _VIEW_LINE.match(line):
            return None
        keep.add(line)
        todo += [m.group(1) for m in _TOKEN.finditer(line.split(" = ", 1)[1])
                 if m.group(1) in binder]
    return [line for line in window if line in keep]
